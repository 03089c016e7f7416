package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// TestExportFailingMidwayIsNotAShortFile: when reading rows fails after
// part of a CSV went out, the client must see a broken download, not a
// file that ends early and looks whole; when it fails before anything went
// out, the answer is an error, not an attachment.
func TestExportFailingMidwayIsNotAShortFile(t *testing.T) {
	failAfter := func(rows int) table {
		return table{name: "t", cols: []column{{"编号", colCount}, {"说明", colText}},
			each: func(emit func(...any) error) error {
				for i := range rows {
					if err := emit(i, "一行足够长的说明文字，让几千行远远超过一次缓冲"); err != nil {
						return err
					}
				}
				return errors.New("the store went away")
			}}
	}
	e := echo.New()
	e.Use(middleware.Recover()) // as in production: it must let the abort through
	e.GET("/late", func(c echo.Context) error { return sendTable(c, failAfter(5000)) })
	e.GET("/early", func(c echo.Context) error { return sendTable(c, failAfter(0)) })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	for _, format := range []string{"csv", "xlsx"} {
		res, err := http.Get(srv.URL + "/late?format=" + format)
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		if format == "csv" && err == nil {
			t.Errorf("csv: a failure after rows went out read as a complete file (%d)", res.StatusCode)
		}
		if format == "xlsx" && (err != nil || res.StatusCode != http.StatusInternalServerError) {
			// XLSX is assembled before the first byte goes out: a plain error.
			t.Errorf("xlsx: %v %v", err, res)
		}

		res, err = http.Get(srv.URL + "/early?format=" + format)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusInternalServerError || res.Header.Get(echo.HeaderContentDisposition) != "" {
			t.Errorf("%s: a failure before any row: %d, Content-Disposition %q", format, res.StatusCode, res.Header.Get(echo.HeaderContentDisposition))
		}
	}
}
