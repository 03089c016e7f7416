package app

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Feedback statuses: filed, answered by an officer, closed.
const (
	FeedbackOpen     = "open"
	FeedbackAnswered = "answered"
	FeedbackClosed   = "closed"
)

// FeedbackCategories are what a resident may file, in the order the form offers them.
var FeedbackCategories = []string{"merchant", "voucher", "suggestion", "other"}

// Limits of feedback, in characters, and of filings per resident per day
// (Asia/Shanghai): a person has a few things to say a day, a bot has
// thousands, and every filing lands in an officer's list.
const (
	MaxFeedbackBody   = 500
	MaxFeedbackAnswer = 1000
	FeedbackDailyCap  = 5
)

// Feedback is one resident's feedback or complaint, owned by a district.
type Feedback struct {
	ID           int64      `db:"id" json:"id"`
	ResidentID   int64      `db:"resident_id" json:"-"`
	District     string     `db:"district_code" json:"district"`
	Category     string     `db:"category" json:"category"`
	Body         string     `db:"body" json:"body"`
	VoucherID    *int64     `db:"voucher_id" json:"-"`
	RedemptionID *int64     `db:"redemption_id" json:"redemption_id,omitempty"`
	Status       string     `db:"status" json:"status"`
	CreatedAt    time.Time  `db:"created_at" json:"created_at"`
	LocalDay     string     `db:"local_day" json:"-"`
	Answer       string     `db:"answer" json:"answer,omitempty"`
	AnsweredBy   *int64     `db:"answered_by" json:"-"`
	AnsweredAt   *time.Time `db:"answered_at" json:"answered_at,omitempty"`
	ClosedBy     *int64     `db:"closed_by" json:"-"`
	ClosedAt     *time.Time `db:"closed_at" json:"closed_at,omitempty"`
	NoticeAt     *time.Time `db:"notice_at" json:"-"`
	SeenAt       *time.Time `db:"seen_at" json:"-"`

	// What the record is tied to, read with it.
	VoucherCode  *string    `db:"voucher_code" json:"voucher_code,omitempty"`
	CampaignID   *int64     `db:"campaign_id" json:"campaign_id,omitempty"`
	CampaignName *string    `db:"campaign_name" json:"campaign_name,omitempty"`
	MerchantName *string    `db:"merchant_name" json:"merchant_name,omitempty"`
	RedeemedAt   *time.Time `db:"redeemed_at" json:"redeemed_at,omitempty"`
	// The filer's sealed number (nil once erased), opened only to be shown masked.
	PhoneSealed []byte `db:"phone_sealed" json:"-"`
	// MaskedPhone is filled in for officers (138****1234).
	MaskedPhone string `db:"-" json:"-"`
}

// Unread reports news the resident has not read yet: an answer or a closing.
func (f Feedback) Unread() bool {
	return f.NoticeAt != nil && (f.SeenAt == nil || f.SeenAt.Before(*f.NoticeAt))
}

// FeedbackFilter selects feedback: a district's ("" with AllDistricts:
// every district), or one resident's.
type FeedbackFilter struct {
	District     string
	AllDistricts bool
	ResidentID   int64
	Status       string // "" = any
	Limit        int
}

// FeedbackStore is how feedback is kept.
type FeedbackStore interface {
	// CreateFeedback stores a filing unless the resident has filed
	// dailyCap already on the writer's day (rate limited
	// "feedback_too_frequent"); it ties it to the voucher's latest
	// redemption, if any, and appends the audit entry, all in one
	// transaction. It sets f.ID, f.CreatedAt and f.LocalDay.
	CreateFeedback(ctx context.Context, f *Feedback, dailyCap int, audit AuditEntry) error
	FeedbackByID(ctx context.Context, id int64) (Feedback, error)
	Feedbacks(ctx context.Context, f FeedbackFilter) ([]Feedback, error)
	// AnswerFeedback records an officer's answer to feedback that is not
	// closed (conflict "feedback_closed" otherwise) and tells the resident.
	AnswerFeedback(ctx context.Context, id int64, answer string, by int64, audit AuditEntry) error
	// CloseFeedback closes feedback that is not closed and tells the resident.
	CloseFeedback(ctx context.Context, id int64, by int64, audit AuditEntry) error
	// MarkFeedbackSeen records that the resident has read their feedback.
	MarkFeedbackSeen(ctx context.Context, residentID int64) error
	// UnreadFeedback counts the resident's feedback with news not yet read.
	UnreadFeedback(ctx context.Context, residentID int64) (int, error)
}

// FeedbackInput is a filing as the resident typed or chose it.
type FeedbackInput struct {
	Category string `form:"category" json:"category"`
	Body     string `form:"body" json:"body"`
	Voucher  string `form:"voucher" json:"voucher"`   // a voucher code of the resident's own wallet, or ""
	District string `form:"district" json:"district"` // when not tied to a voucher
}

// FileFeedback records a resident's feedback. Tied to a voucher, it must
// be one of the resident's own (another's is "voucher_unknown", as if it
// did not exist) and goes to the district of the voucher's campaign;
// untied, to the district the resident chose.
func (a *App) FileFeedback(ctx context.Context, r Resident, in FeedbackInput) (Feedback, error) {
	f := Feedback{ResidentID: r.ID, Category: strings.TrimSpace(in.Category), Body: strings.TrimSpace(in.Body), Status: FeedbackOpen}
	fe := FieldErrors{}
	if !containsString(FeedbackCategories, f.Category) {
		fe.Add("category", "feedback_category")
	}
	if f.Body == "" {
		fe.Add("body", "required")
	} else if utf8.RuneCountInString(f.Body) > MaxFeedbackBody {
		fe.Add("body", "feedback_too_long")
	}
	var v Voucher
	if code := strings.TrimSpace(in.Voucher); code != "" {
		var err error
		if v, err = a.VoucherOf(ctx, r, code); err != nil {
			if ErrorCode(err) != ENOTFOUND {
				return f, err
			}
			fe.Add("voucher", "voucher_unknown")
		} else {
			f.VoucherID, f.District = &v.ID, v.District
			f.VoucherCode, f.CampaignID, f.CampaignName = &v.Code, &v.CampaignID, &v.CampaignName
		}
	} else {
		f.District = strings.TrimSpace(in.District)
		ds, err := a.store.Districts(ctx)
		if err != nil {
			return f, err
		}
		if !containsDistrict(ds, f.District) {
			fe.Add("district", "unknown_district")
		}
	}
	if err := fe.Err(); err != nil {
		return f, err
	}
	// The record of a filing names its category and district, never its
	// words: the audit log is kept for good, and a resident who erases
	// their data takes the words with them.
	audit := AuditEntry{At: a.now().Truncate(time.Microsecond), Actor: "resident", Action: ActionFeedbackFile,
		Entity: "feedback", District: f.District,
		AfterJSON: snapshot(map[string]any{"resident": r.ID, "category": f.Category, "voucher": f.VoucherID != nil, "status": f.Status})}
	if err := a.store.CreateFeedback(ctx, &f, FeedbackDailyCap, audit); err != nil {
		return f, err
	}
	a.log.InfoContext(ctx, "feedback filed", "feedback", f.ID, "district", f.District, "category", f.Category)
	return f, nil
}

// MyFeedback lists the resident's own feedback, newest first, and counts
// it as read: this is where the resident is shown the answers.
func (a *App) MyFeedback(ctx context.Context, r Resident) ([]Feedback, error) {
	fs, err := a.store.Feedbacks(ctx, FeedbackFilter{ResidentID: r.ID, Limit: 200})
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.Unread() {
			if err := a.store.MarkFeedbackSeen(ctx, r.ID); err != nil {
				return nil, err
			}
			a.changed(ctx, newsUnread, idKey(r.ID))
			break
		}
	}
	return fs, nil
}

// UnreadFeedback counts the resident's feedback with an answer or a
// closing not yet read (for the badge on their pages). It is cached for
// a moment per resident, on the App's clock: every resident page shows
// it, and a drop brings every resident at once; an answer given through
// this process shows at once, since it forgets the count.
func (a *App) UnreadFeedback(ctx context.Context, r Resident) (int, error) {
	if n, ok := a.unread.get(r.ID); ok {
		return n, nil
	}
	n, err := a.store.UnreadFeedback(ctx, r.ID)
	if err != nil {
		return 0, err
	}
	a.unread.put(r.ID, n)
	return n, nil
}

// FeedbackList lists the feedback of the officer's district (every
// district for a city-wide officer), newest first; status "" for any.
func (a *App) FeedbackList(ctx context.Context, by Officer, status string) ([]Feedback, error) {
	if !by.Sees(by.District) {
		return nil, Forbidden("no_district_records")
	}
	if status != "" && status != FeedbackOpen && status != FeedbackAnswered && status != FeedbackClosed {
		status = ""
	}
	fs, err := a.store.Feedbacks(ctx, FeedbackFilter{District: by.District, AllDistricts: by.SeesAllDistricts(), Status: status, Limit: 200})
	if err != nil {
		return nil, err
	}
	for i := range fs {
		a.maskFiler(&fs[i])
	}
	return fs, nil
}

// FeedbackFor returns one record the officer may see; another district's
// does not exist for them.
func (a *App) FeedbackFor(ctx context.Context, by Officer, id int64) (Feedback, error) {
	f, err := a.store.FeedbackByID(ctx, id)
	if err != nil {
		return f, err
	}
	if !by.Sees(f.District) {
		return Feedback{}, NotFound("feedback_not_found")
	}
	a.maskFiler(&f)
	return f, nil
}

// maskFiler shows the filer to officers as receipts do (138****1234):
// enough to tell two residents apart on the phone, not to call them.
func (a *App) maskFiler(f *Feedback) {
	if f.PhoneSealed == nil {
		f.MaskedPhone = "—" // erased
		return
	}
	r := Resident{PhoneSealed: f.PhoneSealed}
	if err := a.openPhone(&r); err != nil {
		a.log.Error("feedback: opening a filer's number", "feedback", f.ID, "err", err)
		f.MaskedPhone = "***"
		return
	}
	f.MaskedPhone = r.MaskedPhone()
}

// changeableFeedback loads a record the officer may change.
func (a *App) changeableFeedback(ctx context.Context, by Officer, id int64) (Feedback, error) {
	f, err := a.FeedbackFor(ctx, by, id)
	if err != nil {
		return f, err
	}
	if !by.CanChange(f.District) {
		return f, Forbidden("read_only")
	}
	if f.Status == FeedbackClosed {
		return f, Conflict("feedback_closed")
	}
	return f, nil
}

// AnswerFeedback records an officer's answer (a later answer replaces
// it) and tells the resident: a marker on their pages, and a text
// message saying that an answer is waiting, without its words (a text
// can be read by anyone holding the phone).
func (a *App) AnswerFeedback(ctx context.Context, by Officer, id int64, answer string) error {
	f, err := a.changeableFeedback(ctx, by, id)
	if err != nil {
		return err
	}
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return &Error{Code: EINVALID, Reason: "form_invalid", Fields: map[string]string{"answer": "required"}}
	}
	if utf8.RuneCountInString(answer) > MaxFeedbackAnswer {
		return &Error{Code: EINVALID, Reason: "form_invalid", Fields: map[string]string{"answer": "too_long"}}
	}
	audit := a.auditOf(by, ActionFeedbackAnswer, "feedback", id, f.District,
		map[string]any{"status": f.Status}, map[string]any{"status": FeedbackAnswered, "answer_chars": utf8.RuneCountInString(answer)})
	if err := a.store.AnswerFeedback(ctx, id, answer, by.ID, audit); err != nil {
		return err
	}
	a.changed(ctx, newsUnread, idKey(f.ResidentID))
	a.textFiler(ctx, f)
	return nil
}

// CloseFeedback closes a record; the resident sees it closed.
func (a *App) CloseFeedback(ctx context.Context, by Officer, id int64) error {
	f, err := a.changeableFeedback(ctx, by, id)
	if err != nil {
		return err
	}
	audit := a.auditOf(by, ActionFeedbackClose, "feedback", id, f.District,
		map[string]any{"status": f.Status}, map[string]any{"status": FeedbackClosed})
	if err := a.store.CloseFeedback(ctx, id, by.ID, audit); err != nil {
		return err
	}
	a.changed(ctx, newsUnread, idKey(f.ResidentID))
	return nil
}

// feedbackSMSText is the notice of an answer; it says where to read it.
const feedbackSMSText = "【重庆消费券】您提交的反馈已有答复，请登录后在“我的反馈”中查看。"

// textFiler sends the notice of an answer. The answer is stored and shown
// on the resident's pages whatever the gateway does: a failed text is
// logged, not the officer's problem.
func (a *App) textFiler(ctx context.Context, f Feedback) {
	if a.sms == nil || f.PhoneSealed == nil {
		return
	}
	r := Resident{PhoneSealed: f.PhoneSealed}
	if err := a.openPhone(&r); err != nil || r.Phone == "" {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.sms.Send(sctx, r.Phone, feedbackSMSText); err != nil {
		a.log.WarnContext(ctx, "feedback: the answer's text message failed", "feedback", f.ID, "err", err)
	}
}
