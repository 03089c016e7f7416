package app

import "strings"

// The actions the audit log records, by code: "<area>.<verb>". Every row
// the product writes names one of these, and this is the one list of them:
// the officers' audit page offers them as a filter and says each in words,
// so a code missing here would be a row nobody can find or read
// (TestAuditActionsAreListed looks for codes written anywhere else).
const (
	ActionCampaignCreate        = "campaign.create"
	ActionCampaignEdit          = "campaign.edit"
	ActionCampaignSubmit        = "campaign.submit"
	ActionCampaignApprove       = "campaign.approve"
	ActionCampaignReject        = "campaign.reject"
	ActionCampaignPause         = "campaign.pause"
	ActionCampaignResume        = "campaign.resume"
	ActionCampaignEnd           = "campaign.end"
	ActionCampaignExtend        = "campaign.extend"
	ActionCampaignAddQuantity   = "campaign.add_quantity"
	ActionCampaignRequestBudget = "campaign.request_budget"
	ActionCampaignApproveBudget = "campaign.approve_budget"
	ActionCampaignRequestMove   = "campaign.request_move"
	ActionCampaignApproveMove   = "campaign.approve_move"
	ActionCampaignDeclineMove   = "campaign.decline_move"

	ActionMerchantApprove   = "merchant.approve"
	ActionMerchantReject    = "merchant.reject"
	ActionMerchantSuspend   = "merchant.suspend"
	ActionMerchantReinstate = "merchant.reinstate"

	ActionSettlementPay      = "settlement.pay"
	ActionSettlementPayBatch = "settlement.pay_batch"
	ActionSettlementHold     = "settlement.hold"
	ActionSettlementRelease  = "settlement.release"

	ActionLotterySet  = "lottery.set"
	ActionLotteryDraw = "lottery.draw"

	ActionVoucherVoidRequest = "void.request"
	ActionVoucherVoid        = "void.approve"
	ActionVoucherVoidReject  = "void.reject"

	ActionOfficerCreate    = "officer.create"
	ActionOfficerActivate  = "officer.activate"
	ActionOfficerSignIn    = "officer.sign_in"
	ActionOfficerTOTPEnrol = "officer.totp_enrol"
	ActionOfficerTOTPReset = "officer.totp_reset"
	ActionOfficerUnlock    = "officer.unlock"
	ActionOfficerDisable   = "officer.disable"
	ActionOfficerEnable    = "officer.enable"

	ActionFeedbackFile   = "feedback.file"
	ActionFeedbackAnswer = "feedback.answer"
	ActionFeedbackClose  = "feedback.close"

	ActionContactUpdate = "contact.update"

	ActionResidentErase = "resident.erase"

	// A community service station's claim for a resident, and a print of
	// a voucher's card.
	ActionStationClaim    = "station.claim"
	ActionStationPrint    = "station.print"
	ActionStationRegister = "station.register"

	// Exports of records that hold personal data (RecordExport).
	ActionExportAuditLog    = "export.audit_log"
	ActionExportSettlements = "export.settlements"
	ActionExportPaymentFile = "export.payment_file"
)

// AuditActions lists every action code, grouped by area in the order the
// audit page's filter offers them.
var AuditActions = []string{
	ActionCampaignCreate, ActionCampaignEdit, ActionCampaignSubmit, ActionCampaignApprove, ActionCampaignReject,
	ActionCampaignPause, ActionCampaignResume, ActionCampaignEnd, ActionCampaignExtend, ActionCampaignAddQuantity,
	ActionCampaignRequestBudget, ActionCampaignApproveBudget, ActionCampaignRequestMove, ActionCampaignApproveMove,
	ActionCampaignDeclineMove,
	ActionMerchantApprove, ActionMerchantReject, ActionMerchantSuspend, ActionMerchantReinstate,
	ActionSettlementPay, ActionSettlementPayBatch, ActionSettlementHold, ActionSettlementRelease,
	ActionLotterySet, ActionLotteryDraw,
	ActionVoucherVoidRequest, ActionVoucherVoid, ActionVoucherVoidReject,
	ActionOfficerCreate, ActionOfficerActivate, ActionOfficerSignIn, ActionOfficerTOTPEnrol, ActionOfficerTOTPReset,
	ActionOfficerUnlock, ActionOfficerDisable, ActionOfficerEnable,
	ActionFeedbackFile, ActionFeedbackAnswer, ActionFeedbackClose,
	ActionContactUpdate,
	ActionResidentErase,
	ActionStationClaim, ActionStationPrint, ActionStationRegister,
	ActionExportAuditLog, ActionExportSettlements, ActionExportPaymentFile,
}

// ActionArea is the prefix that selects every action of code's area in
// an AuditFilter: "merchant." for ActionMerchantApprove.
func ActionArea(code string) string {
	area, _, _ := strings.Cut(code, ".")
	return area + "."
}

// IsAuditAction says whether s is one of the action codes.
func IsAuditAction(s string) bool {
	for _, a := range AuditActions {
		if a == s {
			return true
		}
	}
	return false
}
