package report

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Rows writes the result of a query, row by row, in one of the formats of
// `convlog sql`. Values are what database/sql scans into an any: nil,
// int64, float64, string, []byte, bool or time.Time.
type Rows interface {
	Header(cols []string) error
	Row(vals []any) error
	// Close writes what is left; the writer is not usable afterwards.
	Close() error
}

// NewTableRows writes an aligned table for people, as `sqlite3 -column
// -header` does, with numbers to the right. A cell longer than maxCell
// characters is clipped (0: no limit); control characters are escaped.
// The table is written by Close, once every width is known.
func NewTableRows(w io.Writer, maxCell int) Rows {
	return &tableRows{w: w, max: maxCell}
}

type tableRows struct {
	w     io.Writer
	max   int
	t     Table
	nrows int
}

func (t *tableRows) Header(cols []string) error {
	t.t.Header = cols
	t.t.Right = make([]bool, len(cols))
	return nil
}

func (t *tableRows) Row(vals []any) error {
	row := make([]string, len(vals))
	for i, v := range vals {
		row[i] = ClipCell(OneLine(CellText(v)), t.max)
		switch v.(type) {
		case int64, float64:
			t.t.Right[i] = true
		}
	}
	t.t.Rows = append(t.t.Rows, row)
	t.nrows++
	return nil
}

func (t *tableRows) Close() error {
	if err := t.t.Write(t.w); err != nil {
		return err
	}
	_, err := fmt.Fprintf(t.w, "(%s)\n", plural(int64(t.nrows), "row"))
	return err
}

// ClipCell cuts s to at most n characters, ending it with "…" when cut.
func ClipCell(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}

// Table is an aligned table of text cells: a header line, a line of
// dashes, and the rows, columns two spaces apart.
type Table struct {
	Header []string
	Right  []bool // columns aligned to the right
	Rows   [][]string
}

// Write writes the table to w.
func (t *Table) Write(w io.Writer) error {
	widths := make([]int, len(t.Header))
	for i, h := range t.Header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.Rows {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	bw := bufio.NewWriter(w)
	line := func(cells []string) {
		var b strings.Builder
		for i := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < len(t.Right) && t.Right[i] {
				b.WriteString(pad + c)
			} else if i < len(widths)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c) // no trailing spaces
			}
		}
		bw.WriteString(strings.TrimRight(b.String(), " "))
		bw.WriteByte('\n')
	}
	line(t.Header)
	dashes := make([]string, len(widths))
	for i, n := range widths {
		dashes[i] = strings.Repeat("-", n)
	}
	line(dashes)
	for _, r := range t.Rows {
		line(r)
	}
	return bw.Flush()
}

// CellText is a value as the plain formats show it: NULL as nothing, numbers
// as sqlite3 prints them, text as it is (invalid UTF-8 replaced), and a
// BLOB as its text when it is UTF-8, else as hex.
func CellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return FormatReal(v)
	case string:
		return strings.ToValidUTF8(v, "\uFFFD")
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return fmt.Sprintf("x'%x'", v)
	case bool:
		if v {
			return "1"
		}
		return "0"
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(v)
	}
}

// FormatReal writes a REAL as sqlite3 does: 15 significant digits, and
// always with a decimal point or exponent, so that 65.0 reads as a REAL.
func FormatReal(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return ""
	}
	s := strconv.FormatFloat(f, 'g', 15, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// NewCSVRows writes RFC 4180 CSV with a header line.
func NewCSVRows(w io.Writer) Rows {
	return &csvRows{w: csv.NewWriter(w)}
}

type csvRows struct {
	w   *csv.Writer
	buf []string
}

func (c *csvRows) Header(cols []string) error { return c.w.Write(cols) }

func (c *csvRows) Row(vals []any) error {
	c.buf = c.buf[:0]
	for _, v := range vals {
		c.buf = append(c.buf, CellText(v))
	}
	return c.w.Write(c.buf)
}

func (c *csvRows) Close() error {
	c.w.Flush()
	return c.w.Error()
}

// NewTSVRows writes tab-separated values with a header line. A tab,
// newline, carriage return or backslash inside a value is written as \t,
// \n, \r or \\, so that every row is one line of cells.
func NewTSVRows(w io.Writer) Rows {
	return &tsvRows{w: bufio.NewWriter(w)}
}

type tsvRows struct {
	w *bufio.Writer
}

var tsvEscape = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

func (t *tsvRows) line(cells []string) error {
	for i, c := range cells {
		if i > 0 {
			t.w.WriteByte('\t')
		}
		tsvEscape.WriteString(t.w, c)
	}
	return t.w.WriteByte('\n')
}

func (t *tsvRows) Header(cols []string) error { return t.line(cols) }

func (t *tsvRows) Row(vals []any) error {
	cells := make([]string, len(vals))
	for i, v := range vals {
		cells[i] = CellText(v)
	}
	return t.line(cells)
}

func (t *tsvRows) Close() error { return t.w.Flush() }

// NewJSONRows writes a JSON array with one object per row, keys in the
// order of the columns. NULL is null, numbers are numbers, and a BLOB is
// its text when it is UTF-8, else {"base64": "…"}.
func NewJSONRows(w io.Writer) Rows {
	return &jsonRows{w: bufio.NewWriter(w)}
}

type jsonRows struct {
	w    *bufio.Writer
	keys [][]byte
	n    int
	err  error
}

func (j *jsonRows) Header(cols []string) error {
	for _, c := range cols {
		k, err := marshalNoEscape(c)
		if err != nil {
			return err
		}
		j.keys = append(j.keys, k)
	}
	_, err := j.w.WriteString("[")
	return err
}

func (j *jsonRows) Row(vals []any) error {
	if j.n > 0 {
		j.w.WriteString(",")
	}
	j.n++
	j.w.WriteString("\n  {")
	for i, v := range vals {
		if i > 0 {
			j.w.WriteString(", ")
		}
		j.w.Write(j.keys[i])
		j.w.WriteString(": ")
		b, err := jsonValue(v)
		if err != nil {
			return err
		}
		j.w.Write(b)
	}
	_, err := j.w.WriteString("}")
	return err
}

func (j *jsonRows) Close() error {
	if j.keys == nil {
		j.w.WriteString("[")
	}
	if j.n > 0 {
		j.w.WriteString("\n")
	}
	j.w.WriteString("]\n")
	return j.w.Flush()
}

func jsonValue(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return []byte("null"), nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return []byte("null"), nil
		}
		return json.Marshal(v)
	case string:
		return marshalNoEscape(strings.ToValidUTF8(v, "\uFFFD"))
	case []byte:
		if utf8.Valid(v) {
			return marshalNoEscape(string(v))
		}
		return marshalNoEscape(map[string]string{"base64": base64.StdEncoding.EncodeToString(v)})
	case time.Time:
		return marshalNoEscape(v.UTC().Format(time.RFC3339Nano))
	default:
		return marshalNoEscape(v)
	}
}
