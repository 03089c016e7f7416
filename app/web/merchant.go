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

func (s *Server) scanPage(c echo.Context, status int, data map[string]any) error {
	cs := cashierOf(c)
	m, err := s.app.Merchant(c.Request().Context(), cs.MerchantID)
	if err != nil {
		return err
	}
	data["Merchant"] = m
	data["Names"] = s.names(c)
	return s.page(c, status, "merchant/scan", "title.merchant_scan", data)
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

// merchantRedemptions lists today's redemptions at this merchant, each
// with a reverse button for refunds.
func (s *Server) merchantRedemptions(c echo.Context) error {
	return s.redemptionsPage(c, http.StatusOK, nil)
}

func (s *Server) redemptionsPage(c echo.Context, status int, err error) error {
	cs := cashierOf(c)
	ctx := c.Request().Context()
	lines, lerr := s.app.TodaysRedemptions(ctx, cs)
	if lerr != nil {
		return lerr
	}
	m, merr := s.app.Merchant(ctx, cs.MerchantID)
	if merr != nil {
		return merr
	}
	data := map[string]any{"Lines": lines, "Merchant": m, "Names": s.names(c)}
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
