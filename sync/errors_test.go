package sync

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"testing"
	"time"
)

// closedURL is a loopback address where nothing listens.
func closedURL(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// silentURL accepts connections and never answers.
func silentURL(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu stdsync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + l.Addr().String()
}

// statusURL answers every request with an HTTP error, as Turso Cloud does
// for a bad token or a database that is not there. It echoes the token
// back, so that the test can tell convlog does not print it.
func statusURL(t testing.TB, code int, hits *int) string {
	var mu stdsync.Mutex
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*hits++
		mu.Unlock()
		w.WriteHeader(code)
		io.WriteString(w, `{"error":"refused `+r.Header.Get("Authorization")+`"}`)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func TestTargetErrors(t *testing.T) {
	t.Parallel()
	path := hostileSession(t, t.TempDir(), "err")
	var hits401, hits404, hits500 int
	cases := []struct {
		name, url string
		kind      Kind
		want      string
		hits      *int
		wantHits  int
	}{
		{"unreachable", closedURL(t), KindUnreachable, "connection refused", nil, 0},
		{"timeout", silentURL(t), KindTimeout, "did not answer within 300ms", nil, 0},
		{"no such host", "https://convlog-test.invalid", KindUnreachable, "not found", nil, 0},
		{"rejected token", statusURL(t, 401, &hits401), KindRejected, "rejected the token (HTTP 401", &hits401, 1},
		{"no database", statusURL(t, 404, &hits404), KindNotFound, "has no database there (HTTP 404", &hits404, 1},
		{"server error", statusURL(t, 503, &hits500), KindServer, "failed the request (HTTP 503", &hits500, 3},
		{"scheme", "ftp://example.com/db", KindBadURL, `scheme "ftp"`, nil, 0},
		{"not a URL", "convlog-logs", KindBadURL, "not a database URL", nil, 0},
		{"token in URL", "libsql://db.example.com?authToken=" + testToken, KindBadURL, "the token goes in TURSO_AUTH_TOKEN", nil, 0},
		{"user in URL", "https://user:" + testToken + "@db.example.com", KindBadURL, "no user, password or query", nil, 0},
		{"websocket", "wss://db.example.com", KindBadURL, "use libsql://", nil, 0},
		{"file with query", "file:x.db?mode=ro", KindBadURL, "takes no query", nil, 0},
		{"file with host", "file://host/x.db", KindBadURL, "file:///ABSOLUTE/PATH", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := syncOpts(t)
			opts.RequestTimeout = 300 * time.Millisecond
			start := time.Now()
			rep, err := Sync(context.Background(), Target{URL: c.url, Token: testToken}, []string{path}, opts)
			var se *Error
			if !errors.As(err, &se) || se.Kind != c.kind || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v (kind %v), want %v with %q", err, kindOf(err), c.kind, c.want)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(rep.Target, testToken) {
				t.Errorf("the token is in the error: %v (target %s)", err, rep.Target)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if c.hits != nil && *c.hits != c.wantHits {
				t.Errorf("%d requests, want %d", *c.hits, c.wantHits)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func kindOf(err error) string {
	var se *Error
	if errors.As(err, &se) {
		return se.Kind.String()
	}
	return "not an *Error"
}

func TestDisplayHidesCredentials(t *testing.T) {
	for url, want := range map[string]string{
		"libsql://db-acme.turso.io":                     "libsql://db-acme.turso.io",
		"https://u:" + testToken + "@h.example:8080/x/": "https://h.example:8080/x",
		"http://127.0.0.1:8080?authToken=" + testToken:  "http://127.0.0.1:8080",
		"file:.turso/convlog.db":                        ".turso/convlog.db",
		"file:///var/lib/convlog.db":                    "/var/lib/convlog.db",
		"no url at all":                                 "the URL in TURSO_DATABASE_URL",
	} {
		if got := (Target{URL: url, Token: testToken}).Display(); got != want {
			t.Errorf("Display(%q) = %q, want %q", url, got, want)
		}
	}
}
