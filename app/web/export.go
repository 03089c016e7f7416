package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"cqvoucher/app"
)

// colKind says how a spreadsheet must read a column, so that finance can add
// it up: money and counts are numbers, dates are dates, and identifiers
// stay exactly as written.
type colKind uint8

const (
	colText    colKind = iota // names and labels
	colIdent                  // bank accounts, USCC, hashes, hour labels: text, never a number (Excel turns a 19-digit account into 6.22E+18 and drops digits past the 15th)
	colCount                  // integers: counts and database row numbers
	colMoney                  // fen (app.Fen or int64), written as yuan with a ¥ format
	colRatio                  // basis points written as a ratio rounded to two decimals, as the pages show it (leverage 4.28)
	colPercent                // basis points written as a percentage (2500 → 25.00, in a "（%）" column)
	colDay                    // a day in Asia/Shanghai, "2006-01-02"
	colTime                   // a time.Time or *time.Time (nil: empty), shown in Asia/Shanghai to the minute
)

// column is one column of an export: its Chinese header and its kind.
type column struct {
	header string
	kind   colKind
}

// table is what every export writes. Its rows are either added one by
// one (add) or, for a table too long to hold, produced by each, which
// calls emit once a row; values follow the columns' kinds.
type table struct {
	name string // file name without extension
	cols []column
	rows [][]any
	each func(emit func(values ...any) error) error
}

func (t *table) add(values ...any) { t.rows = append(t.rows, values) }

func (t *table) forEach(emit func(values ...any) error) error {
	checked := func(values ...any) error {
		if len(values) != len(t.cols) {
			return fmt.Errorf("export %q: a row of %d values for %d columns", t.name, len(values), len(t.cols))
		}
		return emit(values...)
	}
	if t.each != nil {
		return t.each(checked)
	}
	for _, r := range t.rows {
		if err := checked(r...); err != nil {
			return err
		}
	}
	return nil
}

// badRequest is a refusal of the request's form rather than its content
// (an export format nobody offers): HTTP 400, where the domain's invalid
// input is a 422. It keeps the app error's code and reason for the body.
type badRequest struct{ err *app.Error }

func (b badRequest) Error() string { return b.err.Error() }
func (b badRequest) Unwrap() error { return b.err }

// sendTable answers ?format=csv or ?format=xlsx with the table as a file;
// any other format is a 400 (export_format_unsupported), never an empty
// answer. Neither form holds the whole table in memory: CSV goes out row by
// row, and excelize's stream writer spills a long sheet to a temporary file.
func sendTable(c echo.Context, t table) error {
	switch c.QueryParam("format") {
	case "csv":
		return sendCSV(c, t)
	case "xlsx":
		return sendXLSX(c, t)
	}
	return badRequest{app.Invalid("export_format_unsupported")}
}

func attachment(c echo.Context, t table, ext, contentType string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType)
	h.Set(echo.HeaderContentDisposition, "attachment; filename=\"export."+ext+"\"; filename*=UTF-8''"+url.PathEscape(t.name+"."+ext))
}

// sendCSV starts with a UTF-8 byte-order mark, without which Excel on
// Chinese Windows reads the headers as mojibake.
func sendCSV(c echo.Context, t table) error {
	attachment(c, t, "csv", "text/csv; charset=utf-8")
	w := csv.NewWriter(c.Response())
	fail := func(err error) error {
		if !c.Response().Committed {
			// Nothing went out yet: the error page is not a file to save.
			c.Response().Header().Del(echo.HeaderContentDisposition)
			c.Response().Header().Del(echo.HeaderContentType)
			return err
		}
		// Rows already went out: break the connection, so that the client
		// sees a failed download instead of a file that silently stops.
		panic(http.ErrAbortHandler)
	}
	headers := make([]string, len(t.cols))
	for i, col := range t.cols {
		headers[i] = col.header
	}
	headers[0] = "\ufeff" + headers[0]
	if err := w.Write(headers); err != nil {
		return fail(err)
	}
	rec := make([]string, len(t.cols))
	err := t.forEach(func(values ...any) error {
		for i, col := range t.cols {
			s, err := csvCell(col, values[i])
			if err != nil {
				return err
			}
			rec[i] = s
		}
		return w.Write(rec)
	})
	if err != nil {
		return fail(err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fail(err)
	}
	return nil
}

// csvCell writes one value as a spreadsheet opening the CSV should read it.
func csvCell(col column, v any) (string, error) {
	switch col.kind {
	case colText:
		s, err := asString(col, v)
		// Text that a spreadsheet would run as a formula is data, not code
		// (a merchant named "=HYPERLINK(…)"): a leading apostrophe defuses it.
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			s = "'" + s
		}
		return s, err
	case colIdent:
		// An identifier is written as the formula ="6222021234567890123":
		// Excel, WPS and LibreOffice show it as that exact text, where a bare
		// 19-digit number becomes 6.22E+18 and loses its last digits, and
		// "0012" loses its zeros. The other common trick, a leading tab,
		// leaves the tab inside the value, so an account copied from the
		// sheet into a bank's system would carry it. The formula holds only
		// a quoted string, so it cannot run anything.
		s, err := asString(col, v)
		if s == "" {
			return "", err
		}
		return `="` + strings.ReplaceAll(s, `"`, `""`) + `"`, err
	case colCount:
		n, err := asInt(col, v)
		return strconv.FormatInt(n, 10), err
	case colMoney:
		// A plain decimal, "1234.50": a spreadsheet reads it as a number.
		n, err := asInt(col, v)
		return app.Fen(n).String(), err
	case colRatio:
		n, err := asInt(col, v)
		return app.FormatBP(n), err
	case colPercent:
		n, err := asInt(col, v)
		return app.FormatPercentBP(n), err
	case colDay:
		return asString(col, v)
	case colTime:
		t, err := asTime(col, v)
		if t.IsZero() {
			return "", err
		}
		return app.FormatLocal(t), err
	}
	return "", fmt.Errorf("export column %q: unknown kind %d", col.header, col.kind)
}

// Number formats of the XLSX columns. Dates use explicit formats: Excel's
// built-in date format follows the reader's locale (m/d/yy in the US).
var xlsxFormats = map[colKind]string{
	colMoney:   `"¥"#,##0.00`,
	colRatio:   "0.00",
	colPercent: "0.00",
	colDay:     "yyyy-mm-dd",
	colTime:    "yyyy-mm-dd hh:mm",
	colIdent:   "@", // typed over by hand, the cell stays text
}

// xlsxWidths keep dates and long numbers from showing as ####.
var xlsxWidths = map[colKind]float64{colText: 16, colIdent: 24, colCount: 10, colMoney: 16, colRatio: 10, colPercent: 10, colDay: 12, colTime: 17}

func sendXLSX(c echo.Context, t table) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter(f.GetSheetName(0))
	if err != nil {
		return err
	}
	styles := make([]int, len(t.cols))
	headers := make([]any, len(t.cols))
	for i, col := range t.cols {
		if format, ok := xlsxFormats[col.kind]; ok {
			if styles[i], err = f.NewStyle(&excelize.Style{CustomNumFmt: &format}); err != nil {
				return err
			}
		}
		// A Chinese character is about two digits wide.
		width := max(xlsxWidths[col.kind], float64(2*utf8.RuneCountInString(col.header)+2))
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
		headers[i] = col.header
	}
	// The headers stay in sight while a long sheet scrolls.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", headers); err != nil {
		return err
	}
	row := 1
	cells := make([]any, len(t.cols))
	err = t.forEach(func(values ...any) error {
		for i, col := range t.cols {
			v, err := xlsxValue(col, values[i])
			if err != nil {
				return err
			}
			cells[i] = excelize.Cell{StyleID: styles[i], Value: v}
		}
		row++
		ref, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return sw.SetRow(ref, cells)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	attachment(c, t, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Response().WriteHeader(http.StatusOK)
	if _, err := f.WriteTo(c.Response()); err != nil {
		panic(http.ErrAbortHandler) // the client has part of a zip: break it off
	}
	return nil
}

// xlsxValue is the value excelize writes for a cell: a string stays text,
// integers and floats are numbers, a time.Time is an Excel date.
func xlsxValue(col column, v any) (any, error) {
	switch col.kind {
	case colText, colIdent:
		return asString(col, v)
	case colCount:
		return asInt(col, v)
	case colMoney:
		// XLSX has one kind of number, the IEEE double, so yuan go in as one.
		// fen/100 is the double nearest the exact amount, and any amount below
		// 10^13 yuan has at most 15 significant digits, which a double keeps:
		// excelize writes it back as exactly "1234.5", and the sheet's SUM
		// equals the figure on the page.
		n, err := asInt(col, v)
		return float64(n) / 100, err
	case colRatio:
		n, err := asInt(col, v)
		return float64((n+50)/100) / 100, err // rounded half up like app.FormatBP
	case colPercent:
		n, err := asInt(col, v)
		return float64(n) / 100, err
	case colDay:
		s, err := asString(col, v)
		if err != nil || s == "" {
			return nil, err
		}
		d, err := time.ParseInLocation("2006-01-02", s, app.Shanghai)
		if err != nil {
			return s, nil // not a day after all: keep the text rather than lose it
		}
		return d, nil
	case colTime:
		t, err := asTime(col, v)
		if t.IsZero() {
			return nil, err
		}
		// excelize writes the wall clock of the time's location.
		return t.In(app.Shanghai), err
	}
	return nil, fmt.Errorf("export column %q: unknown kind %d", col.header, col.kind)
}

func asString(col column, v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	}
	return "", fmt.Errorf("export column %q: %T is not text", col.header, v)
}

func asInt(col column, v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case app.Fen:
		return int64(v), nil
	}
	return 0, fmt.Errorf("export column %q: %T is not an integer", col.header, v)
}

func asTime(col column, v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v, nil
	case *time.Time:
		if v == nil {
			return time.Time{}, nil
		}
		return *v, nil
	}
	return time.Time{}, fmt.Errorf("export column %q: %T is not a time", col.header, v)
}
