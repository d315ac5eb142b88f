package cli

import (
	"bytes"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// buildGen builds the workload generator of scripts/gen.
func buildGen(t *testing.T) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "gen")
	build := exec.Command("go", "build", "-o", bin, "./scripts/gen")
	build.Dir = filepath.Dir(filepath.Dir(here))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build scripts/gen: %v\n%s", err, out)
	}
	return bin
}

// generatedSessions imports generated transcripts, the analytics fixture
// and a tee of one of its captures (the same agent session twice) into a
// work folder.
func generatedSessions(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	projects := filepath.Join(t.TempDir(), "projects")
	gen := exec.Command(buildGen(t), "transcripts", "-size", "3MB", "-files", "12", "-seed", "7", "-out", projects)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("gen transcripts: %v\n%s", err, out)
	}
	if r := runConvlog(t, f.work, nil, nil, "import", projects); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	capture, err := os.ReadFile(filepath.Join("testdata", "analytics", "s1-opus-success.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if r := runConvlog(t, f.work, capture, nil, "tee", "--quiet", "--no-sync"); r.code != 0 {
		t.Fatalf("tee: exit %d: %s", r.code, r.stderr)
	}
	return f
}

// statsSame checks that stats with args gives the same output locally and
// with --url on the server.
func statsSame(t *testing.T, work, url string, args ...string) []byte {
	t.Helper()
	local := runConvlog(t, work, nil, nil, append([]string{"stats"}, args...)...)
	remote := runConvlog(t, work, nil, creds(url), append([]string{"stats", "--url", url}, args...)...)
	if local.code != 0 || remote.code != 0 || len(remote.stderr) != 0 {
		t.Fatalf("stats %v: exit %d (%s), with --url exit %d (%s)", args, local.code, local.stderr, remote.code, remote.stderr)
	}
	if !bytes.Equal(local.stdout, remote.stdout) {
		t.Errorf("stats %v locally:\n%s\nwith --url:\n%s", args, local.stdout, remote.stdout)
	}
	return local.stdout
}

// TestStatsURLEqualsLocal: a folder of generated sessions synced to the
// libSQL server answers stats --url as local stats does, to the byte, in
// JSON and text, whole and over a range; the tool figures reached the
// server, and neither query reads the messages or the tool calls there.
func TestStatsURLEqualsLocal(t *testing.T) {
	t.Parallel()
	f := generatedSessions(t)
	srv := testkit.Start(t)
	if r := runConvlog(t, f.work, nil, creds(srv.URL), "sync", "--all"); r.code != 0 {
		t.Fatalf("sync: exit %d: %s", r.code, r.stderr)
	}
	out := statsSame(t, f.work, srv.URL, "--json")
	st := statsOf(t, f.work)
	if st.Sessions < 12 || len(st.Tools) < 3 || len(st.Copies) != 1 || st.Tools[0].P95DurationMS == nil {
		t.Fatalf("the sessions make few figures to compare: %d sessions, %d tools, copies %v:\n%s", st.Sessions, len(st.Tools), st.Copies, out)
	}
	statsSame(t, f.work, srv.URL)
	statsSame(t, f.work, srv.URL, "--json", "--since", "2025-09-03", "--until", "2025-12-20")

	var rows, calls, figures int64
	testkit.QueryRow(t, srv.DB(), "SELECT count(*), coalesce(sum(calls), 0) FROM "+record.ToolsTable, &rows, &calls)
	testkit.QueryRow(t, srv.DB(), "SELECT count(*) FROM tool_calls", &figures)
	if rows == 0 || calls != figures {
		t.Errorf("the server has %d rows of tool figures for %d calls; it holds %d tool calls", rows, calls, figures)
	}
}

// TestOlderTargetGetsToolFigures: a database synced by a convlog that did
// not keep tool figures (no session_tools table, no mark for it in the
// session files) answers stats --url from its tool calls, gets the figures
// on the next sync, those of a session whose file is gone included, and
// then answers the same from them.
func TestOlderTargetGetsToolFigures(t *testing.T) {
	t.Parallel()
	f := generatedSessions(t)
	srv := testkit.Start(t)
	if r := runConvlog(t, f.work, nil, creds(srv.URL), "sync", "--all"); r.code != 0 {
		t.Fatalf("sync: exit %d: %s", r.code, r.stderr)
	}
	// What the older convlog left.
	if _, err := srv.DB().Exec("DROP TABLE " + record.ToolsTable); err != nil {
		t.Fatal(err)
	}
	files := sessionFiles(t, f.dir)
	for _, p := range files {
		db, err := sql.Open("sqlite", p)
		if err == nil {
			_, err = db.Exec("UPDATE sync_marks SET state = json_remove(state, '$.tables." + record.ToolsTable + "')")
			db.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := statsSame(t, f.work, srv.URL, "--json")

	// A session whose file is gone: only the server's tool calls know it.
	var gone string
	var goneCalls int64
	for _, p := range files {
		s, err := record.ReadSession(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		if s.TotalToolCalls != nil && *s.TotalToolCalls > 0 && s.AgentSessionID != nil && !strings.HasPrefix(*s.AgentSessionID, "fx-") {
			gone, goneCalls = s.ID, *s.TotalToolCalls
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if gone == "" {
		t.Fatal("no session with tool calls to remove")
	}
	r := runConvlog(t, f.work, nil, creds(srv.URL), "sync", "--all")
	if r.code != 0 {
		t.Fatalf("sync: exit %d: %s", r.code, r.stderr)
	}
	var sessions, calls int64
	testkit.QueryRow(t, srv.DB(), "SELECT count(DISTINCT session_id), coalesce(sum(calls), 0) FROM "+record.ToolsTable, &sessions, &calls)
	var want2 int64
	testkit.QueryRow(t, srv.DB(), "SELECT count(DISTINCT session_id) FROM tool_calls", &want2)
	if sessions != want2 {
		t.Errorf("tool figures of %d sessions on the server, %d have tool calls", sessions, want2)
	}
	if goneFigures := countOn(t, srv, "SELECT coalesce(sum(calls), 0) FROM "+record.ToolsTable+" WHERE session_id = ?", gone); goneFigures != goneCalls {
		t.Errorf("the session whose file is gone has figures for %d calls, want %d", goneFigures, goneCalls)
	}
	remote := runConvlog(t, f.work, nil, creds(srv.URL), "stats", "--json", "--url", srv.URL)
	if remote.code != 0 || !bytes.Equal(remote.stdout, want) {
		t.Errorf("stats --url after the sync (exit %d, %s):\n%s\nbefore:\n%s", remote.code, remote.stderr, remote.stdout, want)
	}
}

// TestQueryTimeout: a query that the server does not answer within
// --timeout fails with the timeout message, which says that the server may
// still be running it, in time.
func TestQueryTimeout(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	db := srv.DB()
	for _, q := range []string{"CREATE TABLE n (x)", "INSERT INTO n VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := db.Exec("INSERT INTO n SELECT a.x FROM n a, n b LIMIT 3000"); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	// About 10^14 rows to count: far more than a second's work.
	res := runConvlog(t, t.TempDir(), nil, creds(srv.URL), "sql", "--url", srv.URL, "--timeout", "500ms", "SELECT count(*) FROM n a, n b, n c, n d")
	if res.code != 1 || !strings.Contains(string(res.stderr), "did not answer within 500ms") ||
		!strings.Contains(string(res.stderr), "may still be running it") {
		t.Errorf("exit %d: %s", res.code, res.stderr)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("gave up after %v", d)
	}
}
