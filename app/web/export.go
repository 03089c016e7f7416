package web

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"
)

// table is what every export writes: Chinese headers and rows of text or numbers.
type table struct {
	name    string // file name without extension
	headers []string
	rows    [][]any
}

// sendTable answers ?format=csv or ?format=xlsx with the table as a file.
// CSV starts with a UTF-8 byte-order mark, without which Excel on Chinese
// Windows reads the headers as mojibake.
func sendTable(c echo.Context, t table) error {
	disposition := func(ext string) string {
		return "attachment; filename=\"" + "export." + ext + "\"; filename*=UTF-8''" + url.PathEscape(t.name+"."+ext)
	}
	switch c.QueryParam("format") {
	case "csv":
		var buf bytes.Buffer
		buf.WriteString("\ufeff")
		w := csv.NewWriter(&buf)
		_ = w.Write(t.headers)
		for _, r := range t.rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = csvCell(v)
			}
			_ = w.Write(rec)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, disposition("csv"))
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	case "xlsx":
		f := excelize.NewFile()
		defer f.Close()
		sheet := f.GetSheetName(0)
		if err := f.SetSheetRow(sheet, "A1", &t.headers); err != nil {
			return err
		}
		for i, r := range t.rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			row := r
			if err := f.SetSheetRow(sheet, cell, &row); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, disposition("xlsx"))
		return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
	}
	return nil
}

// csvCell writes a value, defusing text that a spreadsheet would run as a
// formula (a merchant name starting with "=" is data, not code).
func csvCell(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmtAny(v)
	}
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
