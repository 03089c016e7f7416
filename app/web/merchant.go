package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

func (s *Server) merchantLoginForm(c echo.Context) error {
	return s.page(c, http.StatusOK, "merchant/login", "title.merchant_login", nil)
}

func (s *Server) merchantLogin(c echo.Context) error {
	username := c.FormValue("username")
	_, tok, err := s.app.LoginCashier(c.Request().Context(), username, c.FormValue("password"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.page(c, statusOf[app.ErrorCode(err)], "merchant/login", "title.merchant_login",
			map[string]any{"Error": s.locale(c).Err(err), "Username": username})
	}
	s.startSession(c, cashiers, tok)
	return c.Redirect(http.StatusSeeOther, "/merchant")
}

func (s *Server) merchantLogout(c echo.Context) error {
	if err := s.endSession(c, cashiers); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/merchant/login")
}

// merchantScan is the counter page: one field that a scanner gun, a paste
// or typing fills, and the bill.
func (s *Server) merchantScan(c echo.Context) error {
	return s.scanPage(c, http.StatusOK, map[string]any{})
}

// scanPage renders the counter page. After a result (a receipt or a
// refusal) the voucher field comes back empty and focused: a scanner gun
// types the next QR text and Enter into whatever field has the focus, and
// text left from the last scan would be glued to the front of it and read
// as a forgery.
func (s *Server) scanPage(c echo.Context, status int, data map[string]any) error {
	cs := cashierOf(c)
	ctx := c.Request().Context()
	m, err := s.app.Merchant(ctx, cs.MerchantID)
	if err != nil {
		return err
	}
	lines, err := s.app.TodaysRedemptions(ctx, cs)
	if err != nil {
		return err
	}
	if data["Receipt"] != nil || data["Rejection"] != nil {
		data["Voucher"] = ""
		data["Result"] = true
	}
	data["Merchant"] = m
	data["Names"] = s.names(c)
	data["Today"] = todayOf(lines)
	// A shop not (or no longer) approved sees why instead of a scan form
	// that looks usable; the domain refuses its redemptions anyway.
	data["Closed"] = m.Status != app.MerchantApproved
	return s.page(c, status, "merchant/scan", "title.merchant_scan", data)
}

// dayTotals is what the merchant's counter took today: redemptions that
// stand (reversed ones do not count), the subsidy they drew and the bills
// they were part of.
type dayTotals struct {
	Count      int
	SubsidyFen app.Fen
	BillFen    app.Fen
}

func todayOf(lines []app.RedemptionLine) dayTotals {
	var d dayTotals
	for _, l := range lines {
		if l.ReversedAt != nil {
			continue
		}
		d.Count++
		d.SubsidyFen += l.DiscountFen
		d.BillFen += l.BillFen
	}
	return d
}

// merchantCheck shows what the voucher is and, with a bill, the discount
// and the amount to pay, with a confirm button. Nothing is written.
func (s *Server) merchantCheck(c echo.Context) error {
	scanned := strings.TrimSpace(c.FormValue("voucher"))
	billRaw := c.FormValue("bill")
	data := map[string]any{"Voucher": scanned, "Bill": billRaw}
	l := s.locale(c)
	var bill app.Fen
	if strings.TrimSpace(billRaw) != "" {
		b, err := app.ParseYuan(billRaw)
		if err != nil {
			data["Errors"] = map[string]string{"bill": l.Err(err)}
		} else {
			bill = b
		}
	}
	q, err := s.app.Inspect(c.Request().Context(), cashierOf(c), scanned, bill)
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		data["Rejection"] = l.Err(err)
		data["Reason"] = app.ErrorReason(err)
		return s.scanPage(c, statusOf[app.ErrorCode(err)], data)
	}
	data["Quote"] = q
	if bill > 0 && data["Errors"] == nil {
		data["Key"] = newIdempotencyKey()
	}
	return s.scanPage(c, http.StatusOK, data)
}

// merchantRedeem confirms a redemption. The form carries the idempotency
// key made when the quote was shown, so a double click or a resent form
// after a dropped connection returns the first result.
func (s *Server) merchantRedeem(c echo.Context) error {
	scanned := c.FormValue("voucher")
	billRaw := c.FormValue("bill")
	l := s.locale(c)
	data := map[string]any{"Voucher": scanned, "Bill": billRaw}
	bill, err := app.ParseYuan(billRaw)
	if err != nil {
		data["Errors"] = map[string]string{"bill": l.Err(err)}
		return s.scanPage(c, http.StatusUnprocessableEntity, data)
	}
	rc, err := s.app.Redeem(c.Request().Context(), cashierOf(c), scanned, bill, c.FormValue("key"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		data["Rejection"] = l.Err(err)
		data["Reason"] = app.ErrorReason(err)
		return s.scanPage(c, statusOf[app.ErrorCode(err)], data)
	}
	return s.scanPage(c, http.StatusOK, map[string]any{"Receipt": rc})
}

func newIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// merchantRedemptions lists the redemptions at this merchant that a
// refund may still reverse (app.RefundDays), each with a reverse button,
// and today's totals.
func (s *Server) merchantRedemptions(c echo.Context) error {
	return s.redemptionsPage(c, http.StatusOK, nil)
}

func (s *Server) redemptionsPage(c echo.Context, status int, err error) error {
	cs := cashierOf(c)
	ctx := c.Request().Context()
	lines, lerr := s.app.RefundableRedemptions(ctx, cs)
	if lerr != nil {
		return lerr
	}
	m, merr := s.app.Merchant(ctx, cs.MerchantID)
	if merr != nil {
		return merr
	}
	today := s.app.Today()
	todays := lines[:0:0]
	for _, l := range lines {
		if app.LocalDay(l.CreatedAt) == today {
			todays = append(todays, l)
		}
	}
	data := map[string]any{"Lines": lines, "Merchant": m, "Names": s.names(c), "Today": todayOf(todays)}
	// ?confirm=ID asks before a reversal: the reverse button of a line
	// leads here, and only the confirm form posts.
	if id, perr := strconv.ParseInt(c.QueryParam("confirm"), 10, 64); perr == nil && err == nil {
		for _, l := range lines {
			if l.ID == id && l.ReversedAt == nil {
				data["Confirm"] = l
			}
		}
	}
	if err != nil {
		data["Rejection"] = s.locale(c).Err(err)
	}
	return s.page(c, status, "merchant/redemptions", "title.merchant_redemptions", data)
}

func (s *Server) merchantReverse(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return app.NotFound("redemption_not_found")
	}
	if _, err := s.app.Reverse(c.Request().Context(), cashierOf(c), id); err != nil {
		if app.ErrorCode(err) == app.EINTERNAL || app.ErrorCode(err) == app.ENOTFOUND {
			return err
		}
		return s.redemptionsPage(c, statusOf[app.ErrorCode(err)], err)
	}
	s.flash(c, "redemption_reversed")
	return c.Redirect(http.StatusSeeOther, "/merchant/redemptions")
}

func (s *Server) apiRedemptions(c echo.Context) error {
	lines, err := s.app.TodaysRedemptions(c.Request().Context(), cashierOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"redemptions": counterRedemptions(lines)})
}

func (s *Server) apiReverse(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return app.NotFound("redemption_not_found")
	}
	red, err := s.app.Reverse(c.Request().Context(), cashierOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, red)
}
