package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// localServer serves a folder of sessions in-process.
func localServer(t *testing.T, dir, addr, token string) *Server {
	t.Helper()
	store, err := OpenLocal(context.Background(), dir, "", testkit.Schema(t), func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := NewServer(store, addr, token)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func request(s *Server, method, host, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// Requests for another host are refused (DNS rebinding), anything but GET
// and HEAD too, and every response carries the policy that allows nothing
// from elsewhere.
func TestServerChecks(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, "s1", "session.jsonl")
	loop := localServer(t, dir, "127.0.0.1:8080", "")
	for _, c := range []struct {
		s            *Server
		method, host string
		code         int
	}{
		{loop, "GET", "127.0.0.1:8080", 200},
		{loop, "GET", "localhost:8080", 200},
		{loop, "GET", "LOCALHOST:8080", 200},
		{loop, "GET", "[::1]:8080", 200},
		{loop, "HEAD", "127.0.0.1:8080", 200},
		{loop, "GET", "evil.example:8080", http.StatusMisdirectedRequest},
		{loop, "GET", "localhost.evil.example:8080", http.StatusMisdirectedRequest},
		{loop, "GET", "127.0.0.1:9090", http.StatusMisdirectedRequest},
		{loop, "GET", "127.0.0.1", http.StatusMisdirectedRequest},
		{loop, "GET", "", http.StatusMisdirectedRequest},
		{loop, "POST", "127.0.0.1:8080", http.StatusMethodNotAllowed},
		{loop, "DELETE", "127.0.0.1:8080", http.StatusMethodNotAllowed},
	} {
		w := request(c.s, c.method, c.host, "/")
		if w.Code != c.code {
			t.Errorf("%s / for host %q: %d, want %d", c.method, c.host, w.Code, c.code)
		}
		if csp := w.Header().Get("Content-Security-Policy"); csp != ServeCSP() || !strings.HasPrefix(csp, "default-src 'none';") {
			t.Errorf("%s %q: policy %q", c.method, c.host, csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s %q: headers %v", c.method, c.host, w.Header())
		}
	}
	// On every address, any IP with the port is this server; a name is
	// not, unless it is the machine's own.
	all := localServer(t, dir, "0.0.0.0:8080", "tok")
	for host, want := range map[string]bool{"10.1.2.3:8080": true, "[fe80::1]:8080": true, "127.0.0.1:8080": true,
		"10.1.2.3:9090": false, "evil.example:8080": false} {
		if got := all.hostAllowed(host); got != want {
			t.Errorf("listening on 0.0.0.0:8080, host %q allowed: %v", host, got)
		}
	}
	named := localServer(t, dir, "192.168.1.5:8080", "tok")
	if !named.hostAllowed("192.168.1.5:8080") || named.hostAllowed("10.1.2.3:8080") || named.hostAllowed("localhost:8080") {
		t.Error("listening on one address, other hosts are allowed")
	}
}

// Off loopback, every request needs the token: from the query (which goes
// into a cookie, out of the address), the cookie, or a header.
func TestServerToken(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, "s1", "session.jsonl")
	s := localServer(t, dir, "0.0.0.0:8080", "s3cret")
	const host = "10.0.0.7:8080"
	for _, path := range []string{"/", "/stats", "/s/s1", "/s/s1/events?after=0&calls=0", "/nothing"} {
		if w := request(s, "GET", host, path); w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "s3cret") {
			t.Errorf("%s without the token: %d %q", path, w.Code, w.Body)
		}
		if w := request(s, "GET", host, path, "Cookie", "convlog_token_8080=wrong"); w.Code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d", path, w.Code)
		}
	}
	w := request(s, "GET", host, "/stats?since=2025-01-01&token=s3cret")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/stats?since=2025-01-01" {
		t.Fatalf("with ?token=: %d, to %q", w.Code, w.Header().Get("Location"))
	}
	cookie := w.Result().Cookies()
	if len(cookie) != 1 || cookie[0].Value != "s3cret" || !cookie[0].HttpOnly || cookie[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", cookie)
	}
	if w := request(s, "GET", host, "/stats", "Cookie", cookie[0].Name+"="+cookie[0].Value); w.Code != 200 {
		t.Errorf("with the cookie: %d", w.Code)
	}
	if w := request(s, "GET", host, "/", "Authorization", "Bearer s3cret"); w.Code != 200 {
		t.Errorf("with the header: %d", w.Code)
	}
	if w := request(s, "GET", "evil.example:8080", "/?token=s3cret"); w.Code != http.StatusMisdirectedRequest {
		t.Errorf("the token does not open another host: %d", w.Code)
	}
}

var rowRe = regexp.MustCompile(`<td class="id"><a href="/s/([^"]+)">`)

func listed(t *testing.T, s *Server, query string) []string {
	t.Helper()
	w := request(s, "GET", "127.0.0.1:8080", "/"+query)
	if w.Code != 200 {
		t.Fatalf("/%s: %d %s", query, w.Code, w.Body)
	}
	var ids []string
	for _, m := range rowRe.FindAllStringSubmatch(w.Body.String(), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// The list filters by date, model, agent, result and prompt text, and
// sorts by cost, duration and errors.
func TestServerList(t *testing.T) {
	dir := t.TempDir()
	mk := func(id, model, prompt string, errs int, cost string, lines int) {
		s := testkit.NewSession(t, dir, id)
		s.Line(strings.Replace(testkit.InitLine, "claude-test", model, 1))
		if prompt != "" {
			s.Line(fmt.Sprintf(`{"type":"user","message":{"role":"user","content":%q}}`, prompt))
		}
		for i := range errs + 1 {
			tid := fmt.Sprintf("%s_%d", id, i)
			s.Line(testkit.ToolUse(tid, "make")).Line(testkit.ToolResult(tid, "out", i < errs))
		}
		for range lines {
			s.Line(testkit.AssistantText(1, "…"))
		}
		if cost != "" {
			s.Line(strings.Replace(testkit.ResultLine, "0.0123", cost, 1))
		}
		s.Finish()
	}
	mk("a", "claude-opus-4", "Fix the flaky <b>checkout</b> test", 2, "0.50", 1)
	mk("b", "claude-sonnet-4-5", "write the release notes", 0, "0.05", 30)
	mk("c", "claude-sonnet-4-5", "", 1, "", 10)
	s := localServer(t, dir, "127.0.0.1:8080", "")
	s.Loc = time.UTC
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"c", "b", "a"}}, // all started together: by id, newest first
		{"?sort=cost", []string{"a", "b", "c"}},
		{"?sort=cost&order=asc", []string{"b", "a", "c"}}, // no cost: last either way
		{"?sort=errors", []string{"a", "c", "b"}},
		{"?sort=duration", []string{"b", "c", "a"}},
		{"?model=claude-sonnet-4-5", []string{"c", "b"}},
		{"?result=success", []string{"b", "a"}},
		{"?result=none", []string{"c"}},
		{"?q=CHECKOUT", []string{"a"}},
		{"?q=%3Cb%3E", []string{"a"}},
		{"?q=notes&model=claude-opus-4", nil},
		{"?from=2023-11-14&to=2023-11-14", []string{"c", "b", "a"}},
		{"?from=2023-11-15", nil},
		{"?agent=nobody", nil},
	} {
		if got := listed(t, s, c.query); !slices.Equal(got, c.want) {
			t.Errorf("/%s lists %q, want %q", c.query, got, c.want)
		}
	}
	body := request(s, "GET", "127.0.0.1:8080", "/").Body.String()
	if !strings.Contains(body, "Fix the flaky &lt;b&gt;checkout&lt;/b&gt; test") || strings.Contains(body, "<b>checkout") {
		t.Error("the prompt is not in the list, escaped")
	}
	if !strings.Contains(body, `href="/?sort=cost"`) || !strings.Contains(body, `href="/?order=asc"`) {
		t.Error("the sort links are missing")
	}
}

// A session that convlog tee is writing counts as running while tee has
// its file open, however long since it last wrote; once tee is killed, no
// longer.
func TestRunning(t *testing.T) {
	dir := t.TempDir()
	lt := startLiveTee(t, dir, "live")
	lt.Send(testkit.InitLine)
	pollDB(t, lt.Path, "SELECT count(*) FROM messages", 1)
	old := time.Now().Add(-time.Hour)
	age := func() {
		for _, p := range []string{lt.Path, lt.Path + "-wal"} {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	age()
	if !Running(lt.Path, false) {
		t.Error("a session tee has open is not running")
	}
	if Running(lt.Path, true) {
		t.Error("a session with an end is running")
	}
	lt.cmd.Process.Signal(syscall.SIGKILL)
	lt.cmd.Wait()
	age()
	if Running(lt.Path, false) {
		t.Error("a session whose tee was killed is running")
	}
}

// The event stream of a session that is not being written ends at once
// with its state; one that is gone says so.
func TestEventsOfFinishedSession(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, "done", "session.jsonl")
	s := localServer(t, dir, "127.0.0.1:8080", "")
	s.Poll = 5 * time.Millisecond
	srv := httptest.NewUnstartedServer(s)
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/s/done/events?after=10&calls=3", nil)
	req.Host = "127.0.0.1:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || !strings.Contains(string(body), "event: delta\ndata: {") ||
		!strings.Contains(string(body), `"ended":true`) || strings.Contains(string(body), `"s":10,`) ||
		!strings.Contains(string(body), `"s":11,`) {
		t.Errorf("%s\n%s", resp.Header, body)
	}
	for _, path := range []string{"/s/nope/events?after=0&calls=0", "/s/done/events?after=x&calls=0"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Host = "127.0.0.1:8080"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}
