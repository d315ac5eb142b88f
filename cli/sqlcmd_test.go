package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

func TestCheckQuery(t *testing.T) {
	for _, q := range []string{
		"SELECT 1",
		"  select * from sessions;  ",
		"-- a comment\nWITH x AS (SELECT 1) SELECT * FROM x;\n-- trailing\n",
		"/* c */ VALUES (1), (2)",
		"EXPLAIN QUERY PLAN SELECT * FROM messages",
		"SELECT replace(model, 'claude-', '') FROM sessions",
		"SELECT 'DELETE FROM sessions; DROP TABLE x' AS s",
		`SELECT "update" FROM (SELECT 1 AS "update")`,
		"SELECT CASE WHEN 1 THEN 'a' END",
		"SELECT [insert] FROM (SELECT 1 AS [insert])",
		"PRAGMA table_info(sessions)",
		"pragma main.table_info('tool_calls');",
		"PRAGMA index_list(messages)",
		"PRAGMA user_version",
		"PRAGMA integrity_check",
	} {
		if err := checkQuery(q); err != nil {
			t.Errorf("%q refused: %v", q, err)
		}
	}
	for q, why := range map[string]string{
		"":                      "no query given",
		"  -- only a comment\n": "no query given",
		"DELETE FROM sessions":  "DELETE changes the database",
		"drop table sessions":   "DROP changes the database",
		"WITH x AS (SELECT 1) DELETE FROM sessions":                      "DELETE changes the database",
		"SELECT 1; DELETE FROM sessions":                                 "more than one statement",
		"SELECT 1; SELECT 2":                                             "more than one statement",
		"PRAGMA user_version = 3":                                        "PRAGMA user_version = … changes the database",
		"PRAGMA user_version(3)":                                         "PRAGMA user_version(…) sets it",
		"PRAGMA journal_mode = DELETE":                                   "changes the database",
		"PRAGMA query_only(0)":                                           "not one that convlog sql knows to only read",
		"PRAGMA optimize":                                                "not one that convlog sql knows to only read",
		"PRAGMA table_info(sessions); DELETE FROM sessions":              "at most one argument",
		"ATTACH 'x.db' AS x":                                             "ATTACH changes the database",
		"REPLACE INTO sessions (id) VALUES ('x')":                        "REPLACE changes the database",
		"INSERT INTO sessions (id) VALUES ('x')":                         "INSERT changes the database",
		"SELECT 1 /* unterminated ' */; UPDATE sessions SET model = 'x'": "more than one statement",
		".tables":         "dot-commands",
		"SELECT 'open":    "unterminated quote",
		"VACUUM":          "VACUUM changes the database",
		"BEGIN; SELECT 1": "BEGIN changes the database",
	} {
		err := checkQuery(q)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: got %v, want an error saying %q", q, err, why)
		}
	}
}

func TestSQLErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, q := range []string{"DELETE FROM sessions", "UPDATE sessions SET model = 'x'", "WITH x AS (SELECT 1) DELETE FROM messages"} {
		res := runConvlog(t, f.work, nil, nil, "sql", q)
		if res.code != 1 || !strings.HasPrefix(string(res.stderr), "convlog: refused: ") {
			t.Errorf("%q: exit %d, stderr %q", q, res.code, res.stderr)
		}
	}
	// The refusal comes before the archive is touched.
	if _, err := os.Stat(filepath.Join(f.work, ".turso", "convlog.db")); !os.IsNotExist(err) {
		t.Errorf("a refused query made the archive: %v", err)
	}
	res := runConvlog(t, f.work, nil, nil, "sql", "SELECT * FROM no_such_table")
	if res.code != 1 || string(res.stderr) != "convlog: SQL logic error: no such table: no_such_table (1)\n" || len(res.stdout) != 0 {
		t.Errorf("bad SQL: exit %d, stderr %q, stdout %q", res.code, res.stderr, res.stdout)
	}
	res = runConvlog(t, f.work, nil, nil, "sql", "--json", "SELECT count(*) AS n FROM sessions")
	if res.code != 0 || string(res.stdout) != "[\n  {\"n\": 6}\n]\n" {
		t.Errorf("count: exit %d, %s %s", res.code, res.stdout, res.stderr)
	}
	res = runConvlog(t, f.work, nil, nil, "sql", "--json", "--csv", "SELECT 1")
	if res.code != 2 {
		t.Errorf("--json --csv: exit %d", res.code)
	}
}

// TestSQLArchiveIsReadOnly checks the guard under the lexical check:
// SQLite itself refuses to write through the connection convlog sql uses.
func TestSQLArchiveIsReadOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if res := runConvlog(t, f.work, nil, nil, "sql", "SELECT 1"); res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	db, err := record.OpenReadOnly(t.Context(), filepath.Join(f.work, ".turso", "convlog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"DELETE FROM sessions", "CREATE TABLE x (a)", "PRAGMA user_version = 99"} {
		if _, err := db.ExecContext(t.Context(), q); err == nil || !strings.Contains(err.Error(), "readonly") {
			t.Errorf("%s: %v", q, err)
		}
	}
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM sessions").Scan(&n); err != nil || n != 6 {
		t.Errorf("sessions after the attempts: %d, %v", n, err)
	}
}

func TestSQLEmptyFolder(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, ".turso", "sessions"), 0o700); err != nil {
		t.Fatal(err)
	}
	for args, want := range map[string]string{
		"--json": "[]\n",
		"--tsv":  "id\tmodel\n",
		"--csv":  "id,model\n",
	} {
		res := runConvlog(t, work, nil, nil, "sql", args, "SELECT id, model FROM sessions")
		if res.code != 0 || string(res.stdout) != want || len(res.stderr) != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", args, res.code, res.stdout, res.stderr)
		}
	}
	res := runConvlog(t, work, nil, nil, "stats", "--json")
	var st struct {
		Sessions int   `json:"sessions"`
		ByDay    []any `json:"by_day"`
		Tools    []any `json:"tools"`
	}
	if res.code != 0 || json.Unmarshal(res.stdout, &st) != nil || st.Sessions != 0 || st.ByDay == nil || len(st.Tools) != 0 {
		t.Errorf("stats --json: exit %d, %s %s", res.code, res.stdout, res.stderr)
	}
	res = runConvlog(t, work, nil, nil, "stats")
	if res.code != 0 || string(res.stdout) != "No sessions.\n" {
		t.Errorf("stats: exit %d, %q %s", res.code, res.stdout, res.stderr)
	}
	// Nothing to keep, so nothing was made.
	if entries, _ := os.ReadDir(filepath.Join(work, ".turso")); len(entries) != 1 {
		t.Errorf("files made in an empty folder: %v", entries)
	}
}

func TestSQLFormats(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, ".turso", "sessions"), 0o700); err != nil {
		t.Fatal(err)
	}
	q := `SELECT 1 AS n, 2.5 AS r, 65.0 AS whole, NULL AS nul, 'a,"b"' || char(9) || 'c' || char(10) AS text, x'00ff' AS blob, x'6869' AS utf8blob`
	for format, want := range map[string]string{
		"--tsv":  "n\tr\twhole\tnul\ttext\tblob\tutf8blob\n1\t2.5\t65.0\t\ta,\"b\"\\tc\\n\tx'00ff'\thi\n",
		"--csv":  "n,r,whole,nul,text,blob,utf8blob\n1,2.5,65.0,,\"a,\"\"b\"\"\tc\n\",x'00ff',hi\n",
		"--json": "[\n  {\"n\": 1, \"r\": 2.5, \"whole\": 65, \"nul\": null, \"text\": \"a,\\\"b\\\"\\tc\\n\", \"blob\": {\"base64\":\"AP8=\"}, \"utf8blob\": \"hi\"}\n]\n",
	} {
		res := runConvlog(t, work, nil, nil, "sql", format, q)
		if res.code != 0 || string(res.stdout) != want {
			t.Errorf("%s: exit %d %s\ngot  %q\nwant %q", format, res.code, res.stderr, res.stdout, want)
		}
	}
	// Without a format and not on a terminal: TSV, like --tsv.
	res := runConvlog(t, work, nil, nil, "sql", "SELECT 1 AS n")
	if string(res.stdout) != "n\n1\n" {
		t.Errorf("piped default: %q", res.stdout)
	}
	// The query from stdin.
	res = runConvlog(t, work, []byte("-- comment\nSELECT 2 AS m;\n"), nil, "sql")
	if res.code != 0 || string(res.stdout) != "m\n2\n" {
		t.Errorf("stdin: exit %d %q %s", res.code, res.stdout, res.stderr)
	}
}

// TestArchiveFollowsChanges: a new session is added, a removed file's
// session stays, and a grown session is brought up to date.
func TestArchiveFollowsChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	count := func() string {
		t.Helper()
		res := runConvlog(t, f.work, nil, nil, "sql", "SELECT count(*), (SELECT count(*) FROM messages) FROM sessions")
		if res.code != 0 || len(res.stderr) != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		return strings.Split(string(res.stdout), "\n")[1]
	}
	if got := count(); got != "6\t52" {
		t.Fatalf("start: %s", got)
	}
	id, _ := teeSession(t, f.work, agentStream(2), nil, "--no-sync")
	if got := count(); got != "7\t58" { // the fixture's 52 + init, 2 × (assistant, user), result
		t.Errorf("after a new session: %s", got)
	}
	if err := os.Remove(filepath.Join(f.dir, id+".db")); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "7\t58" {
		t.Errorf("after removing its file (the archive keeps it): %s", got)
	}
	// Importing a grown transcript replaces its file; the archive follows.
	src := filepath.Join(f.work, "grown.jsonl")
	b := mustRead(t, "testdata/analytics/s3-transcript-two-models.jsonl")
	extra := `{"parentUuid":"u8","isSidechain":false,"cwd":"/work/app","sessionId":"fx-s3","version":"2.0.0","type":"user","message":{"role":"user","content":"thanks"},"uuid":"u9","timestamp":"2025-12-21T09:11:00.000Z"}` + "\n"
	if err := os.WriteFile(src, []byte(b+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := runConvlog(t, f.work, nil, nil, "import", src); res.code != 0 {
		t.Fatalf("import: %s", res.stderr)
	}
	if got := count(); got != "7\t59" {
		t.Errorf("after the transcript grew: %s", got)
	}
}

// TestArchiveConcurrentRuns: several convlog sql and stats runs at once on
// a folder the archive has not seen, while a convlog tee writes a session
// there; every run succeeds, and the archive ends up complete.
func TestArchiveConcurrentRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tee := startLiveTee(t, f.dir, "live")
	lines := bytes.Split(bytes.TrimSuffix(agentStream(20), []byte("\n")), []byte("\n"))
	half := len(lines) / 2
	for _, l := range lines[:half] {
		tee.stdin.Write(append(l, '\n'))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := []string{"sql", "SELECT count(*) FROM sessions WHERE id <> 'live'"}
			want := "count(*)\n6\n"
			if i%2 == 1 {
				args, want = []string{"stats", "--json"}, ""
			}
			res := runConvlog(t, f.work, nil, nil, args...)
			if res.code != 0 || len(res.stderr) != 0 || (want != "" && string(res.stdout) != want) {
				errs <- fmt.Sprintf("run %d: exit %d, %q, %s", i, res.code, res.stdout, res.stderr)
			}
		}()
	}
	wg.Wait()
	for _, l := range lines[half:] {
		tee.stdin.Write(append(l, '\n'))
	}
	tee.stdin.Close()
	if err := tee.cmd.Wait(); err != nil {
		t.Fatalf("tee: %v\n%s", err, tee.stderr.String())
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// Several runs built the archive at once; one build is in place, and
	// none is left behind.
	if left, _ := filepath.Glob(filepath.Join(f.work, ".turso", "convlog.db.new-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	res := runConvlog(t, f.work, nil, nil, "sql", "SELECT total_messages, (SELECT count(*) FROM messages WHERE session_id = 'live'), ended_at IS NOT NULL FROM sessions WHERE id = 'live'")
	if want := fmt.Sprintf("total_messages\t(SELECT count(*) FROM messages WHERE session_id = 'live')\tended_at IS NOT NULL\n%d\t%d\t1\n", len(lines), len(lines)); string(res.stdout) != want {
		t.Errorf("the finished session in the archive:\n%s%s", res.stdout, res.stderr)
	}
}

// TestSQLRemote: --url reads the synced database; the token is sent, never
// printed, and a write is refused before anything is sent.
func TestSQLRemote(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := testkit.Start(t)
	if r := runConvlog(t, f.work, nil, creds(srv.URL), "sync", "--all"); r.code != 0 {
		t.Fatalf("sync: %s", r.stderr)
	}
	res := runConvlog(t, t.TempDir(), nil, creds(srv.URL), "sql", "--url", srv.URL, "--json", "SELECT count(*) AS n FROM tool_calls")
	if res.code != 0 || string(res.stdout) != "[\n  {\"n\": 18}\n]\n" {
		t.Errorf("remote count: exit %d %s %s", res.code, res.stdout, res.stderr)
	}
	noToken(t, res)
	res = runConvlog(t, t.TempDir(), nil, creds(srv.URL), "sql", "--url", srv.URL, "DELETE FROM sessions")
	if res.code != 1 || !strings.HasPrefix(string(res.stderr), "convlog: refused: DELETE") {
		t.Errorf("remote delete: exit %d %s", res.code, res.stderr)
	}
	if n := countOn(t, srv, "SELECT count(*) FROM sessions"); n != 6 {
		t.Errorf("sessions on the server: %d", n)
	}
	res = runConvlog(t, t.TempDir(), nil, creds(srv.URL), "sql", "--url", srv.URL, "SELECT * FROM nope")
	if res.code != 1 || !strings.Contains(string(res.stderr), "no such table: nope") {
		t.Errorf("remote bad SQL: exit %d %s", res.code, res.stderr)
	}
	noToken(t, res)
	res = runConvlog(t, t.TempDir(), nil, creds("http://127.0.0.1:1"), "sql", "--url", "http://127.0.0.1:1", "SELECT 1")
	if res.code != 1 || !strings.Contains(string(res.stderr), "connection refused") {
		t.Errorf("unreachable: exit %d %s", res.code, res.stderr)
	}
	noToken(t, res)
	res = runConvlog(t, f.work, nil, creds(srv.URL), "stats", "--url", srv.URL, "--json")
	var st struct {
		Sessions int `json:"sessions"`
	}
	if res.code != 0 || json.Unmarshal(res.stdout, &st) != nil || st.Sessions != 6 {
		t.Errorf("stats --url: exit %d %s", res.code, res.stderr)
	}
}

//END
