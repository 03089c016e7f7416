package app

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes: the class of failure, mapped to an HTTP status in one place (web).
const (
	EINVALID      = "invalid"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	ERATELIMITED  = "rate_limited"
	EINTERNAL     = "internal"
)

// Error is the one error type the domain returns to its callers.
//
// Code is the class (see the constants above). Reason is a stable,
// machine-readable identifier of what exactly went wrong ("sold_out",
// "already_redeemed"); API clients switch on it and the web layer looks
// up its words in the user's language under "err.<reason>". Params fill
// the placeholders of that message ({at}, {merchant} …). Fields holds
// per-field reasons for forms, so a page can show each message beside
// its field.
type Error struct {
	Code   string
	Reason string
	Params map[string]string
	Fields map[string]string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Code, e.Reason)
	keys := make([]string, 0, len(e.Params))
	for k := range e.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, e.Params[k])
	}
	for _, k := range sortedKeys(e.Fields) {
		fmt.Fprintf(&b, " [%s: %s]", k, e.Fields[k])
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// With returns a copy of e with one more parameter.
func (e *Error) With(key, value string) *Error {
	c := *e
	c.Params = make(map[string]string, len(e.Params)+1)
	for k, v := range e.Params {
		c.Params[k] = v
	}
	c.Params[key] = value
	return &c
}

// Errorf-style constructors for the common classes.
func Invalid(reason string) *Error      { return &Error{Code: EINVALID, Reason: reason} }
func Conflict(reason string) *Error     { return &Error{Code: ECONFLICT, Reason: reason} }
func Forbidden(reason string) *Error    { return &Error{Code: EFORBIDDEN, Reason: reason} }
func NotFound(reason string) *Error     { return &Error{Code: ENOTFOUND, Reason: reason} }
func Unauthorized(reason string) *Error { return &Error{Code: EUNAUTHORIZED, Reason: reason} }
func RateLimited(reason string) *Error  { return &Error{Code: ERATELIMITED, Reason: reason} }

// FieldErrors collects per-field validation failures of one form.
type FieldErrors map[string]string

// Add records the first reason for a field; later ones would only repeat it.
func (f FieldErrors) Add(field, reason string) {
	if _, ok := f[field]; !ok {
		f[field] = reason
	}
}

// Err returns nil when no field failed, else one invalid Error carrying them all.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Reason: "form_invalid", Fields: f}
}

// ErrorCode returns the code of an *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorReason returns the reason of an *Error in err's chain, or "internal".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	if err == nil {
		return ""
	}
	return "internal"
}
