package web

import (
	"cqvoucher/app"
	"cqvoucher/app/token"
)

// What a merchant's staff see of vouchers. A voucher's manual code and its
// token are bearer instruments: whoever reads them can spend the voucher.
// A cashier needs the code only while scanning it, never afterwards, so
// every answer after the scan (the quote, the receipt, the day's list)
// shows the code masked to its last four characters, enough to match a
// customer's complaint to a line. Without that, a refund reversed at noon
// left the voucher's full code in the list for every colleague to redeem
// again without its holder.

// maskCode shows a manual code as **** **** **** 3456 (an older code as
// ****-****-****-7K3M).
func maskCode(code string) string { return token.MaskCode(code) }

// counterVoucher is a voucher as a cashier's answer carries it. Code and
// Token shadow the voucher's own fields and stay empty, and omitempty
// drops them: encoding/json prefers the outer field of a name, so the full
// code and token are never encoded. (A "-" tag would not do: it removes the
// outer field from the contest and lets the inner one through.)
type counterVoucher struct {
	app.Voucher
	Code       string `json:"code,omitempty"`
	Token      string `json:"token,omitempty"`
	CodeMasked string `json:"code_masked"`
}

func counterVoucherOf(v app.Voucher) counterVoucher {
	return counterVoucher{Voucher: v, CodeMasked: maskCode(v.Code)}
}

// counterQuote is app.Quote with the voucher masked.
type counterQuote struct {
	app.Quote
	Voucher counterVoucher `json:"voucher"`
}

func counterQuoteOf(q app.Quote) counterQuote {
	return counterQuote{Quote: q, Voucher: counterVoucherOf(q.Voucher)}
}

// counterReceipt is app.Receipt with the voucher masked.
type counterReceipt struct {
	counterQuote
	Redemption app.Redemption `json:"redemption"`
}

func counterReceiptOf(rc app.Receipt) counterReceipt {
	return counterReceipt{counterQuote: counterQuoteOf(rc.Quote), Redemption: rc.Redemption}
}

// counterRedemption is one line of the merchant's list of the day, its
// voucher code masked (VoucherCode shadows the line's own, as above).
type counterRedemption struct {
	app.RedemptionLine
	VoucherCode       string `json:"voucher_code,omitempty"`
	VoucherCodeMasked string `json:"voucher_code_masked"`
}

func counterRedemptions(lines []app.RedemptionLine) []counterRedemption {
	out := make([]counterRedemption, len(lines))
	for i, l := range lines {
		out[i] = counterRedemption{RedemptionLine: l, VoucherCodeMasked: maskCode(l.VoucherCode)}
	}
	return out
}
