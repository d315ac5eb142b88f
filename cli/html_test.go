package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// teeQueryFixture logs the query fixture as session id in dir/.turso/sessions.
func teeQueryFixture(t *testing.T, dir, id string) {
	t.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", "query", "session.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if res := runConvlog(t, dir, in, nil, "tee", "-q", "--session-id", id); res.code != 0 {
		t.Fatalf("tee: %s", res.stderr)
	}
}

var pageData = regexp.MustCompile(`<script type="application/json" id="data">\{"session":\{"id":"([^"]+)"`)

func TestHTML(t *testing.T) {
	dir := t.TempDir()
	teeQueryFixture(t, dir, "first")
	teeQueryFixture(t, dir, "second")

	// Stdout: one page, self-contained.
	res := runConvlog(t, dir, nil, nil, "html", "fir", "-o", "-")
	page := string(res.stdout)
	if res.code != 0 || !strings.HasPrefix(page, "<!doctype html>") || !strings.HasSuffix(page, "</html>\n") || len(res.stderr) != 0 {
		t.Fatalf("html -o -: exit %d, stderr %q, page %.200q", res.code, res.stderr, page)
	}
	if m := pageData.FindStringSubmatch(page); m == nil || m[1] != "first" {
		t.Errorf("the page's data: %v", m)
	}
	for _, want := range []string{`http-equiv="Content-Security-Policy"`, "<style>", "toolu_01Task", "Fix the failing test"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).MatchString(page) {
		t.Error("the page refers to something elsewhere")
	}

	// By default <id>.html here; several sessions into a folder.
	res = runConvlog(t, dir, nil, nil, "html", "last")
	if res.code != 0 || !strings.HasPrefix(string(res.stderr), "Wrote second.html (session second, ") {
		t.Errorf("html last: exit %d, %s", res.code, res.stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "second.html"))
	if err != nil || !bytes.Contains(got, []byte(`"id":"second"`)) {
		t.Errorf("second.html: %v", err)
	}
	res = runConvlog(t, dir, nil, nil, "html", "-q", "first", "second", "-o", "pages")
	if res.code != 0 || len(res.stderr) != 0 {
		t.Errorf("html into a folder: exit %d, %s", res.code, res.stderr)
	}
	for _, id := range []string{"first", "second"} {
		fi, err := os.Stat(filepath.Join(dir, "pages", id+".html"))
		if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() < 10_000 {
			t.Errorf("pages/%s.html: %v %v", id, err, fi)
		}
	}
	// One session to a file name.
	if res := runConvlog(t, dir, nil, nil, "html", "-q", "first", "-o", "one.html"); res.code != 0 {
		t.Errorf("html -o one.html: %s", res.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "one.html")); !bytes.Equal(b, []byte(page)) {
		t.Error("the page in a file differs from the one on stdout")
	}
}

func TestHTMLErrors(t *testing.T) {
	dir := t.TempDir()
	teeQueryFixture(t, dir, "first")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"html", "nope"}, 1, `convlog: no session "nope" in .turso/sessions`},
		{[]string{"html", "first", "../x"}, 2, `convlog: html: "../x": not a session id`},
		{[]string{"html", "first", "first", "-o", "-"}, 2, "convlog: html: -o - writes one page to stdout"},
		{[]string{"html", "first", "-o", "no/such/folder/x.html"}, 1, "convlog: write the page of session first: open no/such/folder"},
	} {
		res := runConvlog(t, dir, nil, nil, c.args...)
		if res.code != c.code || !strings.HasPrefix(string(res.stderr), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", c.args, res.code, res.stderr, c.code, c.want)
		}
	}
	// One bad session of several: the others are written, exit 1.
	res := runConvlog(t, dir, nil, nil, "html", "-q", "nope", "first", "-o", "out/")
	if res.code != 1 || !strings.Contains(string(res.stderr), `convlog: no session "nope"`) {
		t.Errorf("a bad session of two: exit %d, %s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "first.html")); err != nil {
		t.Errorf("the good session was not written: %v", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "out", ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %q", leftovers)
	}
}
