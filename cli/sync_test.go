package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
	cloudsync "github.com/convlog/convlog/sync"
)

const plantedToken = "tok-PLANTED-cmd-9f8e7d6c5b4a"

// agentStream is a stream-json session with n tool calls. Tool use ids are
// unique across streams, as the agent's are: they key the shared table.
func agentStream(n int) []byte {
	streams.Add(1)
	var b bytes.Buffer
	b.WriteString(`{"type":"system","subtype":"init","session_id":"agent","model":"claude-test","cwd":"/w"}` + "\n")
	for i := range n {
		fmt.Fprintf(&b, `{"type":"assistant","message":{"id":"m%d","model":"claude-test","content":[{"type":"tool_use","id":"tu%d_%d","name":"Bash","input":{"command":"echo %d"}}]}}`+"\n", i, streams.Load(), i, i)
		fmt.Fprintf(&b, `{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu%d_%d","content":"%d 'quoted'","is_error":false}]}}`+"\n", streams.Load(), i, i)
	}
	b.WriteString(`{"type":"result","subtype":"success","is_error":false,"num_turns":1,"total_cost_usd":0.5}` + "\n")
	return b.Bytes()
}

var streams atomic.Int64

var sessionIDLine = regexp.MustCompile(`Session ID: (\S+)`)

// teeSession runs `convlog tee` in dir and returns the session's id.
func teeSession(t *testing.T, dir string, input []byte, env []string, args ...string) (string, result) {
	t.Helper()
	r := runConvlog(t, dir, input, env, append([]string{"tee"}, args...)...)
	if !bytes.Equal(r.stdout, input) {
		t.Fatalf("tee changed the stream")
	}
	m := sessionIDLine.FindSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no session id in:\n%s", r.stderr)
	}
	return string(m[1]), r
}

func creds(url string) []string {
	return []string{"TURSO_DATABASE_URL=" + url, "TURSO_AUTH_TOKEN=" + plantedToken}
}

func countOn(t *testing.T, srv *testkit.Server, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := srv.DB().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func noToken(t *testing.T, r result) {
	t.Helper()
	if bytes.Contains(r.stdout, []byte(plantedToken)) || bytes.Contains(r.stderr, []byte(plantedToken)) {
		t.Errorf("the token was printed:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestSyncNeedsCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, env := range [][]string{nil, {"TURSO_DATABASE_URL=http://127.0.0.1:1"}, {"TURSO_AUTH_TOKEN=" + plantedToken}} {
		r := runConvlog(t, dir, nil, env, "sync", "--all")
		want := "convlog: Turso cloud credentials not found. Set TURSO_DATABASE_URL and TURSO_AUTH_TOKEN to enable cloud sync.\n"
		if r.code != 1 || string(r.stderr) != want || len(r.stdout) != 0 {
			t.Errorf("env %v: exit %d, stderr %q", env, r.code, r.stderr)
		}
	}
}

func TestTeeThenSyncAll(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	dir := t.TempDir()
	a, r := teeSession(t, dir, agentStream(3), nil)
	if !bytes.Contains(r.stderr, []byte("Warning: Turso cloud credentials not found.")) {
		t.Errorf("no credentials warning from tee:\n%s", r.stderr)
	}
	b, _ := teeSession(t, dir, agentStream(5), nil)

	r = runConvlog(t, dir, nil, creds(srv.URL), "sync", "--all")
	noToken(t, r)
	if r.code != 0 {
		t.Fatalf("sync --all: exit %d\n%s", r.code, r.stderr)
	}
	for _, id := range []string{a, b} {
		if !bytes.Contains(r.stdout, []byte("of session "+id)) {
			t.Errorf("no line for %s in:\n%s", id, r.stdout)
		}
	}
	if n := countOn(t, srv, "SELECT count(*) FROM messages"); n != (2+2*3)+(2+2*5) {
		t.Errorf("%d messages on the target", n)
	}
	if n := countOn(t, srv, "SELECT count(*) FROM tool_calls WHERE status = 'success'"); n != 8 {
		t.Errorf("%d completed tool calls on the target", n)
	}

	// Again: nothing to send, in JSON.
	r = runConvlog(t, dir, nil, creds(srv.URL), "sync", "--all", "--json")
	var rep cloudsync.Report
	if err := json.Unmarshal(r.stdout, &rep); err != nil || r.code != 0 {
		t.Fatalf("sync --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if rep.Rows != 0 || len(rep.Sessions) != 2 || !rep.Sessions[0].UpToDate {
		t.Errorf("second sync: %s", r.stdout)
	}
	// By id and by prefix; a path is no session id.
	r = runConvlog(t, dir, nil, creds(srv.URL), "sync", a, b[:8])
	if r.code != 0 || !bytes.Contains(r.stdout, []byte("Session "+a+" is up to date.")) || !bytes.Contains(r.stdout, []byte("Session "+b+" is up to date.")) {
		t.Errorf("sync by id and prefix: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runConvlog(t, dir, nil, creds(srv.URL), "sync", filepath.Join(".turso/sessions", b+".db"))
	if r.code != 2 || !bytes.Contains(r.stderr, []byte("not a session id")) {
		t.Errorf("sync by path: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runConvlog(t, dir, nil, creds(srv.URL), "sync", "no-such-session")
	if r.code != 1 || !bytes.Contains(r.stderr, []byte(`no session "no-such-session" in .turso/sessions`)) {
		t.Errorf("sync of an unknown session: exit %d\n%s", r.code, r.stderr)
	}
}

func TestTeeSyncsAtTheEnd(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	dir := t.TempDir()
	id, r := teeSession(t, dir, agentStream(4), creds(srv.URL))
	noToken(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(r.stderr)), "\n")
	last := lines[len(lines)-2:]
	if !strings.HasPrefix(last[0], "Syncing session "+id+" to "+srv.URL) ||
		!strings.HasPrefix(last[1], fmt.Sprintf("Synced %d records of session %s to %s", 1+(2+2*4)+4+1, id, srv.URL)) {
		t.Errorf("sync lines:\n%s", r.stderr)
	}
	if bytes.Contains(r.stderr, []byte("credentials not found")) {
		t.Error("credentials warning although they are set")
	}
	if n := countOn(t, srv, "SELECT count(*) FROM sessions WHERE id = ? AND ended_at IS NOT NULL AND total_messages = 10", id); n != 1 {
		t.Error("the ended session is not on the target")
	}

	// Quiet: nothing on stderr for a sync that worked.
	r = runConvlog(t, dir, agentStream(1), creds(srv.URL), "tee", "--quiet", "--session-id", "quiet-one")
	if r.code != 0 || len(r.stderr) != 0 || countOn(t, srv, "SELECT count(*) FROM sessions WHERE id = 'quiet-one'") != 1 {
		t.Errorf("tee --quiet: %q", r.stderr)
	}
	// --no-sync: no sync and no warning.
	r = runConvlog(t, dir, agentStream(1), creds(srv.URL), "tee", "--no-sync", "--session-id", "kept-local")
	if r.code != 0 || bytes.Contains(r.stderr, []byte("ync")) || bytes.Contains(r.stderr, []byte("Warning")) {
		t.Errorf("tee --no-sync: exit %d\n%s", r.code, r.stderr)
	}
	if countOn(t, srv, "SELECT count(*) FROM sessions WHERE id = 'kept-local'") != 0 {
		t.Error("tee --no-sync synced")
	}
}

func TestTeeSyncFailureKeepsTheSession(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	url := srv.URL
	srv.Stop() // a server that was there and is gone
	dir := t.TempDir()
	for _, quiet := range []bool{false, true} {
		args := []string{}
		if quiet {
			args = append(args, "--quiet")
		}
		r := runConvlog(t, dir, agentStream(2), creds(url), append([]string{"tee"}, args...)...)
		noToken(t, r)
		if r.code != 0 {
			t.Errorf("exit %d after a failed sync", r.code)
		}
		var warning []string
		for _, l := range strings.Split(string(r.stderr), "\n") {
			if strings.HasPrefix(l, "convlog: warning: sync of session") {
				warning = append(warning, l)
			}
		}
		if len(warning) != 1 || !strings.Contains(warning[0], "cannot reach "+url+": connection refused") ||
			!strings.Contains(warning[0], "push it later with: convlog sync ") {
			t.Errorf("quiet=%v: stderr:\n%s", quiet, r.stderr)
		}
	}
	if n := len(mustGlob(t, filepath.Join(dir, ".turso/sessions/*.db"))); n != 2 {
		t.Errorf("%d session files kept, want 2", n)
	}
	srv.Restart()
	r := runConvlog(t, dir, nil, creds(url), "sync", "--all")
	if r.code != 0 || countOn(t, srv, "SELECT count(*) FROM sessions") != 2 {
		t.Errorf("later sync: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSyncUnreachable(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	url := srv.URL
	srv.Stop()
	dir := t.TempDir()
	teeSession(t, dir, agentStream(1), nil)
	r := runConvlog(t, dir, nil, creds(url), "sync", "--all")
	noToken(t, r)
	lines := strings.Split(strings.TrimSpace(string(r.stderr)), "\n")
	if r.code != 1 || len(lines) != 1 ||
		!strings.HasPrefix(lines[0], "convlog: sync stopped: cannot reach "+url+": connection refused") ||
		!strings.Contains(lines[0], "Nothing was synced in this run.") ||
		!strings.Contains(lines[0], "Run `convlog sync --all` again") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// Several processes syncing different sessions to one fresh target at once.
func TestConcurrentSyncProcesses(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	dir := t.TempDir()
	var ids []string
	for i := range 4 {
		id, _ := teeSession(t, dir, agentStream(20+i), nil)
		ids = append(ids, id)
	}
	var wg sync.WaitGroup
	results := make([]result, len(ids))
	for i, id := range ids {
		wg.Go(func() { results[i] = runConvlog(t, dir, nil, creds(srv.URL), "sync", id) })
	}
	wg.Wait()
	var want int64
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("process %d: exit %d\n%s", i, r.code, r.stderr)
		}
		want += int64(2 + 2*(20+i))
	}
	if n := countOn(t, srv, "SELECT count(*) FROM messages"); n != want {
		t.Errorf("%d messages on the target, want %d", n, want)
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
