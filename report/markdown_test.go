package report

import (
	"bytes"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// gfm renders GitHub-flavoured Markdown (tables, strikethrough) the way a
// careless renderer would: raw HTML let through, so that any HTML the
// escaping missed shows up as a tag.
var gfm = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
)

func render(t testing.TB, md string) string {
	t.Helper()
	var b bytes.Buffer
	if err := gfm.Convert([]byte(md), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	tdRe   = regexp.MustCompile(`(?s)<td>(.*?)</td>`)
	codeRe = regexp.MustCompile(`(?s)<pre><code>(.*)</code></pre>`)
)

// shown is s as a reader is meant to see it: valid UTF-8, CRLF as one line
// break, tabs as spaces, and other control characters as Go escapes.
func shown(s string, keepTabs bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
		case r == '\n':
			b.WriteByte('\n')
		case r == '\t' && !keepTabs:
			b.WriteByte(' ')
		case r == '\t':
			b.WriteByte('\t')
		case needsEscape(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkCell puts MarkdownEscape(s) in a table and checks that it stays one
// cell, holds no HTML but line breaks, and reads as s.
func checkCell(t *testing.T, s string) {
	t.Helper()
	md := "| h |\n|---|\n| " + MarkdownEscape(s) + " |\n"
	out := render(t, md)
	cells := tdRe.FindAllStringSubmatch(out, -1)
	if len(cells) != 1 {
		t.Fatalf("%q: %d cells, want 1:\n%s\n%s", s, len(cells), md, out)
	}
	inner := strings.ReplaceAll(cells[0][1], "<br>", "\n")
	if strings.Contains(inner, "<") {
		t.Fatalf("%q: HTML in the cell: %s", s, cells[0][1])
	}
	got := html.UnescapeString(inner)
	want := strings.Trim(shown(s, false), " ")
	if got != want {
		t.Fatalf("cell of %q reads %q, want %q\n%s", s, got, want, md)
	}
}

var hostile = []string{
	"plain",
	"a | b || c",
	`\| escaped pipe \\| and \`,
	"`code` ``two`` ```three```",
	"<script>alert(1)</script><img src=x onerror=alert(1)></td></tr></table>",
	"&amp; &lt; &#x3C; &copy; & <!-- comment -->",
	"**bold** __bold__ *it* _it_ ~~strike~~ ~one~",
	"[link](javascript:alert(1)) ![img](http://example.com/x.png) [ref]: http://x <http://auto.link>",
	"# heading\n- list\n1. list\n> quote\n---\n| not | a row |",
	"line one\r\nline two\rthree\n\nfour",
	"\ttabbed\tvalue",
	"\x1b[31mred\x1b[0m bell\x07 nul\x00 del\x7f c1\u009b sep\u2028",
	"caf\xe9 \xff\xfe",
	"$x^2$ and $$y$$ ${z}",
	"trailing backslash \\",
	"   padded   ",
	"-",
	":--|--:",
	"日本語 ✅ 😀",
}

func TestMarkdownEscapeInTable(t *testing.T) {
	for _, s := range hostile {
		checkCell(t, s)
	}
}

func FuzzMarkdownEscape(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkCell(t, s)
	})
}

// checkFenced puts fenced(s) in a document with text after it and checks
// that it is one code block holding s, and that the text after it is not
// swallowed.
func checkFenced(t *testing.T, s string) {
	t.Helper()
	md := "before\n\n" + fenced(s) + "\nafter\n"
	out := render(t, md)
	blocks := codeRe.FindAllStringSubmatch(out, -1)
	if len(blocks) != 1 || strings.Count(out, "<pre>") != 1 || !strings.HasSuffix(out, "<p>after</p>\n") {
		t.Fatalf("%q: not one code block followed by the text:\n%s\n%s", s, md, out)
	}
	got := html.UnescapeString(blocks[0][1])
	want := shown(s, true) + "\n"
	if got != want {
		t.Fatalf("code block of %q reads %q, want %q", s, got, want)
	}
}

func TestFenced(t *testing.T) {
	for _, s := range append(hostile,
		"```\nclosing fence inside\n```",
		"````` five\n```` four",
		"~~~\ntilde fence\n~~~",
		"    indented\n   ```",
		"ends with a backtick`",
	) {
		checkFenced(t, s)
	}
	if got := fenced("a ```` b"); !strings.HasPrefix(got, "`````\n") {
		t.Errorf("fence for a run of 4: %q", got)
	}
}

func FuzzFenced(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.TrimSpace(s) == "" {
			return // the summary never fences blank text
		}
		checkFenced(t, s)
	})
}

func TestCodeSpan(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "`abc`"},
		{"a`b", "``a`b``"},
		{"`x`", "`` `x` ``"},
		{"a\nb", "`a\\nb`"},
	} {
		if got := codeSpan(c.in); got != c.want {
			t.Errorf("codeSpan(%q) = %q, want %q", c.in, got, c.want)
		}
		out := render(t, "x "+codeSpan(c.in)+" y")
		if strings.Count(out, "<code>") != 1 {
			t.Errorf("codeSpan(%q) renders as %s", c.in, out)
		}
	}
}

func TestPercentile(t *testing.T) {
	seq := func(n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(n - i) // unsorted on purpose
		}
		return v
	}
	for _, c := range []struct {
		values []int64
		p      float64
		want   int64
	}{
		{nil, 95, 0},
		{[]int64{7}, 95, 7},
		{[]int64{1, 2}, 95, 2},
		{seq(20), 95, 19},
		{seq(100), 95, 95},
		{seq(101), 95, 96},
		{seq(10), 50, 5},
		{seq(10), 100, 10},
		{seq(10), 0, 1},
	} {
		if got := Percentile(c.values, c.p); got != c.want {
			t.Errorf("Percentile(%d values, %v) = %d, want %d", len(c.values), c.p, got, c.want)
		}
	}
}
