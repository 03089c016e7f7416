package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// residentFeedbackList is 我的反馈: the resident's feedback with its status
// and answers. Reading it counts the answers as read (the badge goes).
func (s *Server) residentFeedbackList(c echo.Context) error {
	r := residentOf(c)
	fs, err := s.app.MyFeedback(c.Request().Context(), r)
	if err != nil {
		return err
	}
	c.Set(ctxFeedbackSeen, true)
	return s.page(c, http.StatusOK, "resident/feedback", "title.my_feedback", map[string]any{"Items": fs, "Names": s.names(c)})
}

// ctxFeedbackSeen marks a page that has just shown the resident every
// answer: its badge would count what the resident is reading.
const ctxFeedbackSeen = "feedback_seen"

// residentFeedbackForm is the form to file feedback, tied to one of the
// resident's own vouchers (?voucher=CODE preselects it) or to a district.
func (s *Server) residentFeedbackForm(c echo.Context) error {
	in := app.FeedbackInput{Voucher: c.QueryParam("voucher"), Category: c.QueryParam("category")}
	return s.feedbackFormPage(c, http.StatusOK, in, nil)
}

func (s *Server) feedbackFormPage(c echo.Context, status int, in app.FeedbackInput, err error) error {
	ctx := c.Request().Context()
	vs, verr := s.app.Wallet(ctx, residentOf(c))
	if verr != nil {
		return verr
	}
	ds, derr := s.app.Districts(ctx)
	if derr != nil {
		return derr
	}
	now := s.app.Now()
	rows := make([]map[string]any, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, map[string]any{"V": v, "State": v.State(now)})
	}
	data := map[string]any{"In": in, "Vouchers": rows, "Districts": ds, "Names": s.names(c),
		"Categories": app.FeedbackCategories, "MaxBody": app.MaxFeedbackBody, "DailyCap": app.FeedbackDailyCap}
	s.withError(c, data, err)
	return s.page(c, status, "resident/feedback_new", "title.feedback_new", data)
}

func (s *Server) residentFileFeedback(c echo.Context) error {
	in := app.FeedbackInput{Category: c.FormValue("category"), Body: c.FormValue("body"),
		Voucher: c.FormValue("voucher"), District: c.FormValue("district")}
	if _, err := s.app.FileFeedback(c.Request().Context(), residentOf(c), in); err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.feedbackFormPage(c, statusOf[app.ErrorCode(err)], in, err)
	}
	s.flash(c, "feedback_filed")
	return c.Redirect(http.StatusSeeOther, "/m/feedback")
}

// feedbackUnread is the count on the resident's badge (0 when unknown:
// a badge is not worth failing a page for).
func (s *Server) feedbackUnread(c echo.Context, r app.Resident) int {
	if seen, _ := c.Get(ctxFeedbackSeen).(bool); seen {
		return 0
	}
	n, err := s.app.UnreadFeedback(c.Request().Context(), r)
	if err != nil {
		s.log.WarnContext(c.Request().Context(), "feedback badge", "err", err)
		return 0
	}
	return n
}

// officerFeedbackList lists the feedback of the officer's district
// (every district's for a city-wide officer), by status.
func (s *Server) officerFeedbackList(c echo.Context) error {
	status := c.QueryParam("status")
	fs, err := s.app.FeedbackList(c.Request().Context(), officerOf(c), status)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "officer/feedback", "title.officer_feedback", map[string]any{
		"Items": fs, "Status": status, "Names": s.names(c), "Statuses": []string{"", app.FeedbackOpen, app.FeedbackAnswered, app.FeedbackClosed},
	})
}

// officerFeedbackShow is one record with the answer and close forms.
func (s *Server) officerFeedbackShow(c echo.Context) error {
	return s.feedbackRecordPage(c, http.StatusOK, "", nil)
}

func (s *Server) feedbackRecordPage(c echo.Context, status int, typed string, err error) error {
	id, perr := feedbackID(c)
	if perr != nil {
		return perr
	}
	f, lerr := s.app.FeedbackFor(c.Request().Context(), officerOf(c), id)
	if lerr != nil {
		return lerr
	}
	answer := f.Answer
	if err != nil {
		answer = typed
	}
	data := map[string]any{"F": f, "Answer": answer, "Names": s.names(c), "MaxAnswer": app.MaxFeedbackAnswer}
	s.withError(c, data, err)
	return s.page(c, status, "officer/feedback_show", "title.officer_feedback_show", data)
}

func feedbackID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, app.NotFound("feedback_not_found")
	}
	return id, nil
}

func (s *Server) officerAnswerFeedback(c echo.Context) error {
	return s.feedbackStep(c, "feedback_answered", func(id int64) error {
		return s.app.AnswerFeedback(c.Request().Context(), officerOf(c), id, c.FormValue("answer"))
	})
}

func (s *Server) officerCloseFeedback(c echo.Context) error {
	return s.feedbackStep(c, "feedback_closed", func(id int64) error {
		return s.app.CloseFeedback(c.Request().Context(), officerOf(c), id)
	})
}

// feedbackStep runs an officer's step on a record: a refusal the officer
// can mend (a missing answer, a record closed meanwhile) is shown on the
// record's page; a record they may not see is not found.
func (s *Server) feedbackStep(c echo.Context, done string, step func(id int64) error) error {
	id, err := feedbackID(c)
	if err != nil {
		return err
	}
	if err := step(id); err != nil {
		switch app.ErrorCode(err) {
		case app.EINVALID, app.ECONFLICT:
			return s.feedbackRecordPage(c, statusOf[app.ErrorCode(err)], c.FormValue("answer"), err)
		}
		return err
	}
	s.flash(c, done)
	return c.Redirect(http.StatusSeeOther, "/officer/feedback/"+strconv.FormatInt(id, 10))
}

// feedbackJSON is a resident's feedback as the API gives it back.
type feedbackJSON struct {
	app.Feedback
	Unread bool `json:"unread"`
}

func (s *Server) apiMyFeedback(c echo.Context) error {
	fs, err := s.app.MyFeedback(c.Request().Context(), residentOf(c))
	if err != nil {
		return err
	}
	out := make([]feedbackJSON, len(fs))
	for i, f := range fs {
		out[i] = feedbackJSON{Feedback: f, Unread: f.Unread()}
	}
	return c.JSON(http.StatusOK, map[string]any{"feedback": out})
}

func (s *Server) apiFileFeedback(c echo.Context) error {
	var in app.FeedbackInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	f, err := s.app.FileFeedback(c.Request().Context(), residentOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, feedbackJSON{Feedback: f})
}
