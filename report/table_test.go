package report

import (
	"bytes"
	"testing"
)

func TestTableWrite(t *testing.T) {
	var b bytes.Buffer
	tab := Table{Header: []string{"tool", "calls", "note"}, Right: []bool{false, true, false},
		Rows: [][]string{{"Bash", "12", "ok"}, {"Read", "2", ""}, {"日本語", "1000", "wide"}}}
	if err := tab.Write(&b); err != nil {
		t.Fatal(err)
	}
	want := "tool  calls  note\n" +
		"----  -----  ----\n" +
		"Bash     12  ok\n" +
		"Read      2\n" +
		"日本語    1000  wide\n" // widths count characters, not terminal cells
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestCellFormats(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, ""}, {int64(-3), "-3"}, {65.0, "65.0"}, {0.1 + 0.2, "0.3"}, {2.0 / 3, "0.666666666666667"},
		{1e21, "1e+21"}, {"a\xffb", "a\uFFFDb"}, {[]byte("hi"), "hi"}, {[]byte{0, 0xff}, "x'00ff'"}, {true, "1"},
	} {
		if got := CellText(c.v); got != c.want {
			t.Errorf("%#v: %q, want %q", c.v, got, c.want)
		}
	}
	for s, want := range map[string]string{"abcdef": "abcd…", "abcde": "abcde", "日本語日本語": "日本語日…"} {
		if got := ClipCell(s, 5); got != want {
			t.Errorf("ClipCell(%q): %q, want %q", s, got, want)
		}
	}
}

func TestRowsWithoutRows(t *testing.T) {
	for name, w := range map[string]func(*bytes.Buffer) Rows{
		"json": func(b *bytes.Buffer) Rows { return NewJSONRows(b) },
		"csv":  func(b *bytes.Buffer) Rows { return NewCSVRows(b) },
		"tsv":  func(b *bytes.Buffer) Rows { return NewTSVRows(b) },
	} {
		var b bytes.Buffer
		r := w(&b)
		if err := r.Header([]string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"json": "[]\n", "csv": "a,b\n", "tsv": "a\tb\n"}[name]
		if b.String() != want {
			t.Errorf("%s: %q, want %q", name, b.String(), want)
		}
	}
}

func TestStatsFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 3685137: "3,685,137", -1234567: "-1,234,567"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q, want %q", n, got, want)
		}
	}
	for ms, want := range map[float64]string{850: "850ms", 12345: "12.3s", 342000: "5m42s", 3599400: "59m59s", 7500000: "2h05m"} {
		if got := msText(&ms); got != want {
			t.Errorf("msText(%v) = %q, want %q", ms, got, want)
		}
	}
	for _, c := range []struct {
		part, whole int64
		want        float64
	}{{1, 3, 33.33}, {2, 3, 66.67}, {0, 0, 0}, {1, 18, 5.56}} {
		if got := pct(c.part, c.whole); got != c.want {
			t.Errorf("pct(%d, %d) = %v, want %v", c.part, c.whole, got, c.want)
		}
	}
}
