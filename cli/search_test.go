package cli

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// The fixed sessions of the search tests.
const (
	searchFix  = "9d1e4c7a-0b2f-4e8a-9c3d-5a6b7c8d9e01" // the flaky migration test is fixed
	searchShop = "2c5b8e1f-7a3d-4b6c-8e9f-0a1b2c3d4e02" // the same words, elsewhere
)

// searchLines are lines of the sessions, timed by their "timestamp".
var searchLines = map[string][]string{
	searchFix: {
		`{"type":"system","subtype":"init","session_id":"4f6a2b8c-1d3e-4f50-a6b7-c8d9e0f1a2b3","model":"claude-opus-4-1","cwd":"/home/dev/billing","tools":["Bash","Read"],"timestamp":"2025-12-22T10:30:00.000Z"}`,
		`{"type":"user","message":{"role":"user","content":"The migration test in billing is flaky on CI; please find out why and fix it."},"timestamp":"2025-12-22T10:30:01.000Z"}`,
		`{"type":"assistant","message":{"id":"msg_1","model":"claude-opus-4-1","role":"assistant","content":[{"type":"thinking","thinking":"A flaky migration test that passes locally often depends on the wall clock.","signature":"c2ln"}]},"timestamp":"2025-12-22T10:30:04.000Z"}`,
		`{"type":"assistant","message":{"id":"msg_1","model":"claude-opus-4-1","role":"assistant","content":[{"type":"text","text":"I'll run the migration test fifty times to see it fail."}]},"timestamp":"2025-12-22T10:30:05.000Z"}`,
		`{"type":"assistant","message":{"id":"msg_1","model":"claude-opus-4-1","role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"go test ./billing -run TestMigration -count=50","description":"Run the flaky migration test 50 times"}}]},"timestamp":"2025-12-22T10:30:06.000Z"}`,
		`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","is_error":true,"content":"--- FAIL: TestMigration (0.02s)\n    migration_test.go:41: clock skew: got 10:30:01, want 10:30:00\nFAIL\tbilling\t1.204s"}]},"timestamp":"2025-12-22T10:30:19.000Z"}`,
		`{"type":"assistant","message":{"id":"msg_2","model":"claude-opus-4-1","role":"assistant","content":[{"type":"text","text":"Fixed: the flaky migration test now uses a fake clock, and fifty runs pass."}]},"timestamp":"2025-12-22T10:31:40.000Z"}`,
		`{"type":"result","subtype":"success","is_error":false,"num_turns":3,"result":"Fixed.","total_cost_usd":0.05,"timestamp":"2025-12-22T10:31:41.000Z"}`,
	},
	searchShop: {
		`{"type":"system","subtype":"init","session_id":"8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5f60","model":"claude-sonnet-4-5","cwd":"/home/dev/web","tools":["Read"],"timestamp":"2025-12-23T09:00:00.000Z"}`,
		`{"type":"user","message":{"role":"user","content":"Make the checkout page faster."},"timestamp":"2025-12-23T09:00:01.000Z"}`,
		`{"type":"assistant","message":{"id":"msg_3","model":"claude-sonnet-4-5","role":"assistant","content":[{"type":"text","text":"The checkout test is slow: a migration runs before each test, and a flaky retry hides it."}]},"timestamp":"2025-12-23T09:00:09.000Z"}`,
		`{"type":"assistant","message":{"id":"msg_3","model":"claude-sonnet-4-5","role":"assistant","content":[{"type":"tool_use","id":"toolu_02","name":"Read","input":{"file_path":"/home/dev/web/db/migrate.ts"}}]},"timestamp":"2025-12-23T09:00:10.000Z"}`,
		`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_02","content":"export async function migrate(db) {\n  // runs every migration, in order, before each test\n}"}]},"timestamp":"2025-12-23T09:00:11.000Z"}`,
		`{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"Done.","total_cost_usd":0.01,"timestamp":"2025-12-23T09:00:30.000Z"}`,
	},
}

// searchDir writes the search sessions into a session folder of a new
// working folder, and returns the working folder.
func searchDir(t *testing.T) string {
	t.Helper()
	work := t.TempDir()
	dir := filepath.Join(work, "sessions")
	for _, id := range []string{searchFix, searchShop} {
		var lines [][]byte
		for _, l := range searchLines[id] {
			lines = append(lines, []byte(l))
		}
		start := int64(1766399400000) // 2025-12-22T10:30:00Z
		if id == searchShop {
			start += 81_000_000
		}
		writeGoldenSession(t, dir, record.Meta{ID: id, StartedAt: start}, lines, start+100_000)
	}
	return work
}

// utc runs the binary with times shown in UTC, as the golden files have
// them.
var utc = []string{"TZ=UTC"}

func TestSearchGolden(t *testing.T) {
	t.Parallel()
	work := searchDir(t)
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"search/hits.golden", []string{"search", "flaky", "migration", "test"}},
		{"search/hits.json.golden", []string{"search", "--json", "flaky migration test"}},
		{"search/filters.golden", []string{"search", "migration", "tool:Bash", "status:error"}},
		{"search/sessions.golden", []string{"search", "--sessions", "migration"}},
		{"search/sessions.json.golden", []string{"search", "--sessions", "--json", "migration OR checkout"}},
		{"search/around.golden", []string{"query", searchFix[:8], "--around", "5", "--tools"}},
		{"search/around.json.golden", []string{"query", searchFix[:8], "--around", "2", "--json", "--tools"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			res := runConvlog(t, work, nil, utc, append(c.args[:1:1], append([]string{"--dir", "sessions"}, c.args[1:]...)...)...)
			if res.code != 0 || len(res.stderr) != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if strings.Contains(string(res.stdout), "\x1b") {
				t.Error("escape sequence in output that is not a terminal")
			}
			if strings.HasSuffix(c.golden, ".json.golden") {
				if c.args[0] == "query" {
					if !json.Valid(res.stdout) {
						t.Errorf("not JSON:\n%s", res.stdout)
					}
				} else {
					sc := bufio.NewScanner(bytes.NewReader(res.stdout))
					for sc.Scan() {
						if !json.Valid(sc.Bytes()) {
							t.Errorf("a line that is not JSON: %s", sc.Bytes())
						}
					}
				}
			}
			queryGolden(t, c.golden, res.stdout)
		})
	}
}

// The hits name the agent's own session id (what claude --resume takes),
// the session's short id, and where the words were; the phrase ranks
// first.
func TestSearchHitFields(t *testing.T) {
	t.Parallel()
	work := searchDir(t)
	res := runConvlog(t, work, nil, utc, "search", "--dir", "sessions", "--json", "flaky migration test")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	type hit struct {
		SessionID      string  `json:"session_id"`
		ShortID        string  `json:"short_id"`
		AgentSessionID string  `json:"agent_session_id"`
		Where          string  `json:"where"`
		In             string  `json:"in"`
		Snippet        string  `json:"snippet"`
		Tool           *string `json:"tool"`
		Status         *string `json:"status"`
		Sequence       int64   `json:"sequence"`
	}
	var hits []hit
	dec := json.NewDecoder(bytes.NewReader(res.stdout))
	for dec.More() {
		var h hit
		if err := dec.Decode(&h); err != nil {
			t.Fatal(err)
		}
		hits = append(hits, h)
	}
	if len(hits) != 5 {
		t.Fatalf("%d hits:\n%s", len(hits), res.stdout)
	}
	first := hits[0]
	if first.SessionID != searchFix || first.ShortID != searchFix[:8] || first.AgentSessionID != "4f6a2b8c-1d3e-4f50-a6b7-c8d9e0f1a2b3" {
		t.Errorf("first hit: %+v", first)
	}
	// The three with the phrase first, then the two with the words apart.
	for i, h := range hits {
		if phrase := strings.Contains(h.Snippet, "[flaky migration test]"); phrase != (i < 3) {
			t.Errorf("hit %d: %q", i, h.Snippet)
		}
	}
	for _, h := range hits {
		if h.Where == "tool input Bash" && (h.Sequence != 4 || *h.Tool != "Bash" || *h.Status != "error" || h.In != archive.KindInput) {
			t.Errorf("tool input hit: %+v", h)
		}
	}
}

// Malformed queries are usage errors (exit 2) that say what is wrong in the
// query's terms, with nothing on stdout and no archive touched.
func TestSearchMalformed(t *testing.T) {
	t.Parallel()
	work := searchDir(t)
	for _, c := range []struct{ query, want string }{
		{`"unclosed`, `convlog: search: a quote is not closed: "unclosed; close it with ", or leave it out`},
		{`AND`, "convlog: search: AND needs words on both sides, as in: flaky AND test"},
		{`NEAR(`, `convlog: search: NEAR(…) is not supported: search for a "phrase", or for words joined by AND`},
		{`*`, `convlog: search: "*": a * goes at the end of a word, to find the words that start with it, as in migrat*`},
		{``, "convlog: nothing to search for: give a word, as in convlog search flaky"},
	} {
		res := runConvlog(t, work, nil, nil, "search", "--dir", "sessions", c.query)
		if res.code != 2 || string(res.stderr) != c.want+"\n" || len(res.stdout) != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", c.query, res.code, res.stdout, res.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(work, archive.Name)); err == nil {
		t.Error("a malformed query made the archive")
	}
	for _, args := range [][]string{{"--since", "yesterday", "x"}, {"-n", "0", "x"}} {
		res := runConvlog(t, work, nil, nil, append([]string{"search", "--dir", "sessions"}, args...)...)
		if res.code != 2 {
			t.Errorf("%q: exit %d %s", args, res.code, res.stderr)
		}
	}
}

// No hit is exit status 1, as grep has it, and says so; a word that looks
// like a filter but is none is pointed out.
func TestSearchNoHits(t *testing.T) {
	t.Parallel()
	work := searchDir(t)
	res := runConvlog(t, work, nil, nil, "search", "--dir", "sessions", "tol:Bash")
	want := "convlog: no hits for tol:Bash (tol: is not a filter; the filters are tool:, in:, status:, model:, agent:)\n"
	if res.code != 1 || string(res.stderr) != want || len(res.stdout) != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	// A folder with no sessions: the error of every command that reads
	// them (TestMissingDir), not a search that found nothing.
	res = runConvlog(t, t.TempDir(), nil, nil, "search", "flaky")
	if want := "convlog: no session folder .turso/sessions: it does not exist (convlog tee makes it; --dir or CONVLOG_DIR names another)\n"; res.code != 1 || string(res.stderr) != want {
		t.Errorf("empty folder: exit %d, %q", res.code, res.stderr)
	}
	// An empty session folder has nothing to find, and no index to
	// complain about.
	empty := t.TempDir()
	os.MkdirAll(filepath.Join(empty, ".turso", "sessions"), 0o755)
	res = runConvlog(t, empty, nil, nil, "search", "flaky")
	if res.code != 1 || string(res.stderr) != "convlog: no hits for flaky\n" {
		t.Errorf("empty session folder: exit %d, %q", res.code, res.stderr)
	}
}

// One archive for two session folders: a search from either finds only its
// own folder's sessions, both while the archive holds one folder (the
// search then needs no join with the folder's sessions) and after it holds
// both (it does).
func TestSearchKeepsToItsFolder(t *testing.T) {
	t.Parallel()
	work := searchDir(t)
	if err := os.MkdirAll(filepath.Join(work, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	shop := searchShop + ".db"
	if err := os.Rename(filepath.Join(work, "sessions", shop), filepath.Join(work, "other", shop)); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ dir, want string }{
		{"sessions", searchFix}, // the archive holds this folder only
		{"other", searchShop},   // now both
		{"sessions", searchFix},
	} {
		res := runConvlog(t, work, nil, nil, "search", "--dir", step.dir, "--archive", "shared.db", "--json", "migration")
		if res.code != 0 {
			t.Fatalf("--dir %s: exit %d: %s", step.dir, res.code, res.stderr)
		}
		n := 0
		dec := json.NewDecoder(bytes.NewReader(res.stdout))
		for dec.More() {
			var h struct {
				SessionID string `json:"session_id"`
			}
			if err := dec.Decode(&h); err != nil {
				t.Fatal(err)
			}
			if h.SessionID != step.want {
				t.Errorf("--dir %s: a hit of session %s", step.dir, h.SessionID)
			}
			n++
		}
		if n == 0 {
			t.Errorf("--dir %s: no hits", step.dir)
		}
	}
}

// A secret that redaction replaced in the stored copy cannot be found: the
// index holds only what was stored.
func TestSearchRedactedSecrets(t *testing.T) {
	t.Parallel()
	res, path := teeRun(t, secretStream(), nil, "--no-sync")
	if res.code != 0 || path == "" {
		t.Fatalf("tee: exit %d %s", res.code, res.stderr)
	}
	work := filepath.Dir(filepath.Dir(path))
	for _, secret := range []string{secretGitHub, secretAWS, secretAnthropic, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", strings.Repeat("EXAMPLEfake0", 3)[:30]} {
		r := runConvlog(t, work, nil, nil, "search", "--dir", "s", `"`+secret+`"`)
		if r.code != 1 || len(r.stdout) != 0 {
			t.Errorf("%.12s…: exit %d\n%s%s", secret, r.code, r.stdout, r.stderr)
		}
	}
	// Not a vacuous check: the lines are there, with the secrets replaced.
	r := runConvlog(t, work, nil, nil, "search", "--dir", "s", "--json", "REDACTED")
	if r.code != 0 || bytes.Count(r.stdout, []byte("\n")) < 4 {
		t.Errorf("REDACTED: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// --reindex makes the index anew; a search then finds what it found before.
func TestSearchReindex(t *testing.T) {
	t.Parallel()
	work := searchDir(t)
	before := runConvlog(t, work, nil, utc, "search", "--dir", "sessions", "migration")
	res := runConvlog(t, work, nil, nil, "search", "--dir", "sessions", "--reindex")
	if res.code != 0 || !strings.HasPrefix(string(res.stderr), "Made the search index of ") {
		t.Fatalf("reindex: exit %d %s", res.code, res.stderr)
	}
	after := runConvlog(t, work, nil, utc, "search", "--dir", "sessions", "--reindex", "migration")
	if after.code != 0 || !bytes.Equal(before.stdout, after.stdout) {
		t.Errorf("before:\n%s\nafter:\n%s%s", before.stdout, after.stdout, after.stderr)
	}
}

// --url: a database file that sessions were synced to gets its own index
// on request, which later syncs keep up to date; a server without FTS5 is
// named as such.
func TestSearchURL(t *testing.T) {
	t.Parallel()
	work := searchDir(t)
	target := filepath.Join(t.TempDir(), "synced.db")
	url := "file:" + target
	sync := func() {
		t.Helper()
		if r := runConvlog(t, work, nil, []string{"TURSO_DATABASE_URL=" + url}, "sync", "--dir", "sessions", "--all"); r.code != 0 {
			t.Fatalf("sync: %s", r.stderr)
		}
	}
	sync()
	res := runConvlog(t, work, nil, nil, "search", "--url", url, "flaky")
	if res.code != 1 || !strings.Contains(string(res.stderr), "has no search index: make it with convlog search --reindex --url "+url) {
		t.Errorf("no index: exit %d %s", res.code, res.stderr)
	}
	res = runConvlog(t, work, nil, utc, "search", "--url", url, "--reindex", "--sessions", "migration")
	if res.code != 0 || bytes.Count(res.stdout, []byte("\n")) != 2 {
		t.Errorf("reindex: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// A new session, synced: the triggers queue its rows, the next search
	// indexes them.
	writeGoldenSession(t, filepath.Join(work, "sessions"), record.Meta{ID: "0e0e0e0e-0000-4000-8000-000000000003", StartedAt: 1766500000000},
		[][]byte{[]byte(`{"type":"user","message":{"role":"user","content":"is the pangolin migration done?"}}`)}, 1766500001000)
	sync()
	res = runConvlog(t, work, nil, nil, "search", "--url", url, "--json", "pangolin")
	if res.code != 0 || !bytes.Contains(res.stdout, []byte(`"session_id":"0e0e0e0e-0000-4000-8000-000000000003"`)) {
		t.Errorf("after a sync: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// An index made by another version of convlog is named as such.
	db, err := sql.Open("sqlite", target)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("UPDATE search_meta SET value = '0' WHERE key = 'version'")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	res = runConvlog(t, work, nil, nil, "search", "--url", url, "pangolin")
	if res.code != 1 || !strings.Contains(string(res.stderr), url+" has a search index of another version of convlog: make it anew with convlog search --reindex --url "+url) {
		t.Errorf("an older index: exit %d %s", res.code, res.stderr)
	}
	if res = runConvlog(t, work, nil, nil, "search", "--url", url, "--reindex", "pangolin"); res.code != 0 || !bytes.Contains(res.stdout, []byte("pangolin")) {
		t.Errorf("reindex of an older index: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	srv := testkit.Start(t)
	if r := runConvlog(t, work, nil, creds(srv.URL), "sync", "--dir", "sessions", "--all"); r.code != 0 {
		t.Fatalf("sync to the server: %s", r.stderr)
	}
	res = runConvlog(t, work, nil, creds(srv.URL), "search", "--url", srv.URL, "--reindex", "flaky")
	want := "cannot be searched: the server has no full-text search (SQLite's FTS5), which convlog search needs; search the local sessions instead (without --url)"
	if res.code != 1 || !strings.Contains(string(res.stderr), want) {
		t.Errorf("server without FTS5: exit %d %s", res.code, res.stderr)
	}
	noToken(t, res)
}

// On a terminal, matches are in colour rather than between brackets.
func TestSearchColour(t *testing.T) {
	spans := []archive.Span{{Text: "the "}, {Text: "flaky", Match: true}, {Text: " test\x1b[2J"}}
	if got := renderSnippet(spans, false); got != `the [flaky] test\x1b[2J` {
		t.Errorf("plain: %q", got)
	}
	if got := renderSnippet(spans, true); got != "the "+colorMatch+"flaky"+colorOff+` test\x1b[2J` {
		t.Errorf("colour: %q", got)
	}
}

// --around shows a message's text whole, its lines kept, but never the
// escape sequences in it.
func TestAroundEscapes(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	dir := filepath.Join(work, "sessions")
	writeGoldenSession(t, dir, record.Meta{ID: "0f0f0f0f-0000-4000-8000-000000000001", StartedAt: 1766399400000},
		[][]byte{[]byte(`{"type":"user","message":{"role":"user","content":"line one\n\tline two \u001b[2J\u0007 end"}}`)}, 1766399401000)
	res := runConvlog(t, work, nil, nil, "query", "--dir", "sessions", "0f0f", "--around", "0")
	if res.code != 0 || !bytes.Contains(res.stdout, []byte("[user]\nline one\n\tline two \\x1b[2J\\a end\n")) || bytes.Contains(res.stdout, []byte("\x1b")) {
		t.Errorf("exit %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runConvlog(t, work, nil, nil, "query", "--dir", "sessions", "0f0f", "--around", "0", "--markdown")
	if res.code != 2 {
		t.Errorf("--around --markdown: exit %d %s", res.code, res.stderr)
	}
}
