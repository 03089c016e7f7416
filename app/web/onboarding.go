package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// merchantApplyForm is the public application form for merchants.
func (s *Server) merchantApplyForm(c echo.Context) error {
	return s.applyForm(c, http.StatusOK, app.MerchantApplication{}, nil)
}

func (s *Server) applyForm(c echo.Context, status int, in app.MerchantApplication, err error) error {
	ctx := c.Request().Context()
	ds, derr := s.app.Districts(ctx)
	if derr != nil {
		return derr
	}
	cats, cerr := s.app.Categories(ctx)
	if cerr != nil {
		return cerr
	}
	in.OwnerPassword = "" // never echoed back
	data := map[string]any{"In": in, "Districts": ds, "Categories": cats, "Errors": map[string]string{}}
	s.withError(c, data, err)
	return s.page(c, status, "merchant/apply", "title.merchant_apply", data)
}

func (s *Server) merchantApply(c echo.Context) error {
	var in app.MerchantApplication
	for field, dst := range map[string]*string{
		"name": &in.Name, "uscc": &in.USCC, "category": &in.Category, "district": &in.District, "address": &in.Address,
		"contact_name": &in.ContactName, "contact_phone": &in.ContactPhone, "settlement_account": &in.SettlementAccount,
		"owner_username": &in.OwnerUsername, "owner_password": &in.OwnerPassword,
	} {
		*dst = c.FormValue(field)
	}
	m, err := s.app.Apply(c.Request().Context(), in)
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return s.applyForm(c, http.StatusUnprocessableEntity, in, err)
		}
		return err
	}
	return s.page(c, http.StatusOK, "merchant/applied", "title.merchant_apply", map[string]any{"M": m})
}

func (s *Server) apiMerchantApply(c echo.Context) error {
	var in app.MerchantApplication
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	m, err := s.app.Apply(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, m)
}

// merchantStaff is the owner's page of cashier accounts.
func (s *Server) merchantStaff(c echo.Context) error {
	return s.staffPage(c, http.StatusOK, nil, map[string]string{})
}

func (s *Server) staffPage(c echo.Context, status int, err error, typed map[string]string) error {
	return s.staffPageFull(c, status, err, typed, nil)
}

func (s *Server) staffPageWith(c echo.Context, extra map[string]any) error {
	return s.staffPageFull(c, http.StatusOK, nil, map[string]string{}, extra)
}

func (s *Server) staffPageFull(c echo.Context, status int, err error, typed map[string]string, extra map[string]any) error {
	ctx := c.Request().Context()
	staff, serr := s.app.Staff(ctx, cashierOf(c))
	if serr != nil {
		return serr
	}
	keys, kerr := s.app.APIKeys(ctx, cashierOf(c))
	if kerr != nil {
		return kerr
	}
	data := map[string]any{"Staff": staff, "Keys": keys, "In": typed, "Errors": map[string]string{}}
	for k, v := range extra {
		data[k] = v
	}
	s.withError(c, data, err)
	return s.page(c, status, "merchant/staff", "title.merchant_staff", data)
}

func (s *Server) merchantAddCashier(c echo.Context) error {
	typed := map[string]string{"username": c.FormValue("username"), "name": c.FormValue("name")}
	if _, err := s.app.AddCashier(c.Request().Context(), cashierOf(c), typed["username"], typed["name"], c.FormValue("password")); err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return s.staffPage(c, http.StatusUnprocessableEntity, err, typed)
		}
		return err
	}
	s.flash(c, "cashier_added")
	return c.Redirect(http.StatusSeeOther, "/merchant/staff")
}

func (s *Server) merchantRemoveCashier(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return app.NotFound("cashier_not_found")
	}
	if err := s.app.RemoveCashier(c.Request().Context(), cashierOf(c), id); err != nil {
		return err
	}
	s.flash(c, "cashier_removed")
	return c.Redirect(http.StatusSeeOther, "/merchant/staff")
}

func (s *Server) apiStaff(c echo.Context) error {
	staff, err := s.app.Staff(c.Request().Context(), cashierOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"cashiers": jsonList(staff)})
}

func (s *Server) apiAddCashier(c echo.Context) error {
	var req struct {
		Username string `json:"username"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cs, err := s.app.AddCashier(c.Request().Context(), cashierOf(c), req.Username, req.Name, req.Password)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, cs)
}

func (s *Server) apiRemoveCashier(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return app.NotFound("cashier_not_found")
	}
	if err := s.app.RemoveCashier(c.Request().Context(), cashierOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiAPIKeys(c echo.Context) error {
	ks, err := s.app.APIKeys(c.Request().Context(), cashierOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"api_keys": jsonList(ks)})
}

// apiCreateAPIKey answers with the key's secret: the only time it is shown.
func (s *Server) apiCreateAPIKey(c echo.Context) error {
	var req struct {
		Label string `json:"label"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	k, err := s.app.CreateAPIKey(c.Request().Context(), cashierOf(c), req.Label)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, k)
}

func (s *Server) apiRevokeAPIKey(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return app.NotFound("api_key_not_found")
	}
	if err := s.app.RevokeAPIKey(c.Request().Context(), cashierOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// merchantCreateAPIKey shows a new key once on the staff page.
func (s *Server) merchantCreateAPIKey(c echo.Context) error {
	k, err := s.app.CreateAPIKey(c.Request().Context(), cashierOf(c), c.FormValue("label"))
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return s.staffPage(c, http.StatusUnprocessableEntity, err, map[string]string{})
		}
		return err
	}
	return s.staffPageWith(c, map[string]any{"NewKey": k})
}

func (s *Server) merchantRevokeAPIKey(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return app.NotFound("api_key_not_found")
	}
	if err := s.app.RevokeAPIKey(c.Request().Context(), cashierOf(c), id); err != nil {
		return err
	}
	s.flash(c, "api_key_revoked")
	return c.Redirect(http.StatusSeeOther, "/merchant/staff")
}
