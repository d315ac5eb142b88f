package cli

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

func sessionFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// importOne imports paths into folder s of work, and returns the one
// session file they make.
func importOne(t *testing.T, work string, paths ...string) string {
	t.Helper()
	res := runConvlog(t, work, nil, nil, append([]string{"import", "--dir", "s"}, paths...)...)
	if res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}
	files := sessionFiles(t, filepath.Join(work, "s"))
	if len(files) != 1 {
		t.Fatalf("session files %v, want one", files)
	}
	return files[0]
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImportTranscript(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join(work, "t.jsonl")
	copyFile(t, "testdata/import/transcript.jsonl", src)
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", "t.jsonl")
	if res.code != 0 || len(res.stderr) != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if want := "Imported 1 file (0 updated), 0 unchanged, 0 failed: 1 session, 14 messages, 4 tool calls into s\n"; string(res.stdout) != want {
		t.Fatalf("stdout %q", res.stdout)
	}
	files := sessionFiles(t, filepath.Join(work, "s"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	db := testkit.OpenDB(t, files[0])
	var (
		model, cwd, branch, version, format, agent string
		started, ended, dur, msgs, tools           int64
		in, out, cc, cr, prompt                    int64
		cost                                       sql.NullFloat64
		mode                                       sql.NullString
	)
	testkit.QueryRow(t, db, `SELECT model, cwd, git_branch, agent_version, source_format, agent_session_id, started_at, ended_at,
		duration_ms, total_messages, total_tool_calls, input_tokens, output_tokens, cache_creation_input_tokens,
		cache_read_input_tokens, prompt_length, total_cost_usd, mode FROM sessions`,
		&model, &cwd, &branch, &version, &format, &agent, &started, &ended, &dur, &msgs, &tools, &in, &out, &cc, &cr, &prompt, &cost, &mode)
	// Times from the lines: 09:00:00.000 to 09:00:12.000 on 2025-10-01.
	// Tokens: once per message.id (msg_01A counted once, with its last usage).
	if model != "claude-sonnet-4-20250514" || cwd != "/home/dev/blog" || branch != "main" || version != "1.0.98" ||
		format != "transcript" || agent != "7d3f9a2c-1b4e-4c8d-9e6f-0a1b2c3d4e5f" ||
		started != 1759309200000 || ended != 1759309212000 || dur != 12000 || msgs != 14 || tools != 4 ||
		in != 12+20+300+350+25+30 || out != 40+60+25+18+70+22 || cc != 2048+100 || cr != 2048+2048+2148 ||
		prompt != 58 || cost.Valid || mode.Valid {
		t.Fatalf("session: %s %s %s %s %s %s times %d %d %d counts %d %d tokens %d %d %d %d prompt %d cost %v mode %v",
			model, cwd, branch, version, format, agent, started, ended, dur, msgs, tools, in, out, cc, cr, prompt, cost, mode)
	}
	rows, err := db.Query(`SELECT tool_name, status, duration_ms, timestamp FROM tool_calls ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, status string
		var d, ts int64
		if err := rows.Scan(&name, &status, &d, &ts); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %d", name, status, d))
	}
	if strings.Join(got, ", ") != "Grep success 1250, Task success 3100, Bash error 400, Edit success 250" {
		t.Fatalf("tool calls: %v", got)
	}
	var summaries, sidechain int
	var summaryTS sql.NullInt64
	testkit.QueryRow(t, db, `SELECT count(*), max(timestamp) FROM messages WHERE type='summary'`, &summaries, &summaryTS)
	testkit.QueryRow(t, db, `SELECT count(*) FROM messages WHERE is_sidechain = 1`, &sidechain)
	if summaries != 1 || summaryTS.Valid || sidechain != 4 {
		t.Fatalf("summary lines %d (time %v), sidechain %d", summaries, summaryTS, sidechain)
	}

	// Again: nothing new, the file is skipped.
	res = runConvlog(t, work, nil, nil, "import", "--dir", "s", "t.jsonl")
	if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte("Imported 0 files (0 updated), 1 unchanged, 0 failed")) {
		t.Fatalf("re-import: exit %d %s", res.code, res.stdout)
	}
	// The transcript grows: the same session is brought up to date.
	f, _ := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"parentUuid":"x","isSidechain":false,"sessionId":"7d3f9a2c-1b4e-4c8d-9e6f-0a1b2c3d4e5f","type":"user","message":{"role":"user","content":"thanks"},"uuid":"y","timestamp":"2025-10-01T09:01:00.000Z"}` + "\n")
	f.Close()
	res = runConvlog(t, work, nil, nil, "import", "--dir", "s", work)
	if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte("Imported 1 file (1 updated), 0 unchanged, 0 failed: 1 session, 15 messages")) {
		t.Fatalf("grown: exit %d %s %s", res.code, res.stdout, res.stderr)
	}
	if files2 := sessionFiles(t, filepath.Join(work, "s")); len(files2) != 1 || files2[0] != files[0] {
		t.Fatalf("after growth: %v", files2)
	}
	db2 := testkit.OpenDB(t, files[0])
	testkit.QueryRow(t, db2, `SELECT ended_at, total_messages FROM sessions`, &ended, &msgs)
	if ended != 1759309260000 || msgs != 15 {
		t.Fatalf("after growth: ended %d messages %d", ended, msgs)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(work, "s", ".*")); len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

// A capture without timestamps (Claude Code's stream-json before 2.1.7x)
// ended when its file was last written: that is its end, as tee's clock is
// a stream's, so that it is not "incomplete" (the seed's ended_at IS NULL:
// still running, or its logger killed). Its start and duration stay
// unknown, and no line gets an invented time. An import by an older
// convlog, which left the end unknown, is done again.
func TestImportCaptureWithoutTimes(t *testing.T) {
	work := t.TempDir()
	capture := filepath.Join(work, "run.jsonl")
	data, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	written := time.Date(2026, 3, 4, 5, 6, 7, 890e6, time.UTC)
	if err := os.WriteFile(capture, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(capture, written, written); err != nil {
		t.Fatal(err)
	}
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", capture)
	if want := "1 file carried no timestamps: their start times and durations are unknown (NULL); each ended when its file was last modified.\n"; res.code != 0 || !bytes.HasSuffix(res.stdout, []byte(want)) {
		t.Fatalf("exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	file := sessionFiles(t, filepath.Join(work, "s"))[0]
	check := func() {
		t.Helper()
		db := testkit.OpenDB(t, file)
		defer db.Close()
		var started, ended, dur sql.NullInt64
		var format string
		var pending, withDur, withTime int
		testkit.QueryRow(t, db, `SELECT started_at, ended_at, duration_ms, source_format FROM sessions`, &started, &ended, &dur, &format)
		testkit.QueryRow(t, db, `SELECT count(*) FILTER (WHERE status='pending'), count(duration_ms), count(timestamp) FROM tool_calls`, &pending, &withDur, &withTime)
		if started.Valid || ended != (sql.NullInt64{Int64: written.UnixMilli(), Valid: true}) || dur.Valid || format != "stream-json" || pending != 0 || withDur != 0 || withTime != 0 {
			t.Fatalf("times %v %v %v format %s pending %d durations %d times %d", started, ended, dur, format, pending, withDur, withTime)
		}
		var msgTimes int
		testkit.QueryRow(t, db, `SELECT count(timestamp) FROM messages`, &msgTimes)
		if msgTimes != 0 {
			t.Fatalf("%d messages got an invented time", msgTimes)
		}
	}
	check()
	list := runConvlog(t, work, nil, nil, "list", "--dir", "s")
	if list.code != 0 || bytes.Contains(list.stdout, []byte("incomplete")) || !bytes.Contains(list.stdout, []byte("success")) {
		t.Fatalf("list: exit %d\n%s%s", list.code, list.stdout, list.stderr)
	}

	// As an older convlog left it.
	db, err := sql.Open("sqlite", record.DSN(file, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE sessions SET ended_at = NULL`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	res = runConvlog(t, work, nil, nil, "import", "--dir", "s", capture)
	if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte("Imported 1 file (1 updated), 0 unchanged")) {
		t.Fatalf("again: exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	check()
	res = runConvlog(t, work, nil, nil, "import", "--dir", "s", capture)
	if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte("Imported 0 files (0 updated), 1 unchanged")) {
		t.Fatalf("a third time: exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestImportBadFiles(t *testing.T) {
	work := t.TempDir()
	good := filepath.Join(work, "in", "good.jsonl")
	os.MkdirAll(filepath.Join(work, "in", "sub"), 0o755)
	copyFile(t, "testdata/import/transcript.jsonl", good)
	full, _ := os.ReadFile("testdata/sample.jsonl")
	os.WriteFile(filepath.Join(work, "in", "truncated.jsonl"), full[:len(full)-40], 0o644)
	os.WriteFile(filepath.Join(work, "in", "notjson.jsonl"), []byte("hello\nworld\n"), 0o644)
	os.WriteFile(filepath.Join(work, "in", "empty.jsonl"), nil, 0o644)
	os.WriteFile(filepath.Join(work, "in", "ignored.txt"), []byte("not looked at"), 0o644)
	os.Symlink("..", filepath.Join(work, "in", "sub", "loop"))
	os.Symlink("nowhere.jsonl", filepath.Join(work, "in", "dangling.jsonl"))
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", "in", "missing.jsonl")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1", res.code)
	}
	for _, want := range []string{
		`convlog: import in/truncated.jsonl: ends in the middle of a line`,
		`convlog: import in/notjson.jsonl: is not JSONL`,
		`convlog: import in/empty.jsonl: is empty`,
		`convlog: import in/sub/loop: is a link back into a folder it is in (a loop)`,
		`convlog: import in/dangling.jsonl: no such file or directory`,
		`convlog: import missing.jsonl: no such file or directory`,
	} {
		if !strings.Contains(string(res.stderr), want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	if n := strings.Count(string(res.stderr), "\n"); n != 6 {
		t.Errorf("%d error lines, want 6:\n%s", n, res.stderr)
	}
	if !regexp.MustCompile(`^Imported 1 file \(0 updated\), 0 unchanged, 6 failed: 1 session, 14 messages`).Match(res.stdout) {
		t.Fatalf("stdout %q", res.stdout)
	}
	if files := sessionFiles(t, filepath.Join(work, "s")); len(files) != 1 {
		t.Fatalf("sessions %v: a failed file left a session behind", files)
	}
}

// TestImportCorpus imports every real capture there is and checks that
// every tool_use in them was paired with its result.
func TestImportCorpus(t *testing.T) {
	files, _ := filepath.Glob("../../shared/corpus/*.jsonl")
	files = append(files, ownCorpus(t)...)
	work := t.TempDir()
	args := []string{"import", "--dir", "s"}
	for _, f := range files {
		args = append(args, mustAbs(t, f))
	}
	res := runConvlog(t, work, nil, nil, args...)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	imported := sessionFiles(t, filepath.Join(work, "s"))
	if len(imported) != len(files) {
		t.Fatalf("%d files imported into %d sessions", len(files), len(imported))
	}
	for _, f := range imported {
		db := testkit.OpenDB(t, f)
		var src string
		var pending, uses int
		testkit.QueryRow(t, db, `SELECT source_path FROM sessions`, &src)
		testkit.QueryRow(t, db, `SELECT count(*) FILTER (WHERE status='pending'), count(*) FROM tool_calls`, &pending, &uses)
		var blocks int
		testkit.QueryRow(t, db, `SELECT count(*) FROM messages, json_each(raw_message, '$.message.content') AS b
			WHERE messages.type='assistant' AND json_valid(raw_message) AND json_type(raw_message, '$.message.content')='array'
			AND json_extract(b.value, '$.type')='tool_use'`, &blocks)
		if pending != 0 || uses != blocks {
			t.Errorf("%s: %d of %d tool calls unpaired, %d tool_use blocks", filepath.Base(src), pending, uses, blocks)
		}
	}
}

func TestImportClaudeFolder(t *testing.T) {
	work := t.TempDir()
	config := filepath.Join(work, "claude")
	project := filepath.Join(config, "projects", "-home-dev-blog")
	os.MkdirAll(project, 0o700)
	copyFile(t, "testdata/import/transcript.jsonl", filepath.Join(project, "7d3f9a2c.jsonl"))
	res := runConvlog(t, work, nil, []string{"CLAUDE_CONFIG_DIR=" + config}, "import", "--claude", "--dir", "s")
	if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte("Imported 1 file (0 updated), 0 unchanged, 0 failed: 1 session, 14 messages")) {
		t.Fatalf("exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	res = runConvlog(t, work, nil, []string{"CLAUDE_CONFIG_DIR=" + filepath.Join(work, "nowhere")}, "import", "--claude")
	if res.code != 1 || !bytes.Contains(res.stderr, []byte("convlog: --claude: no Claude Code projects folder at")) ||
		!bytes.Contains(res.stderr, []byte("set CLAUDE_CONFIG_DIR")) {
		t.Fatalf("missing folder: exit %d: %s", res.code, res.stderr)
	}
}

// --claude reads both places Claude Code has kept its transcripts,
// ~/.config/claude/projects and ~/.claude/projects (a folder that links to
// the other counted once), or each folder of a comma-separated
// CLAUDE_CONFIG_DIR, as ccusage does.
func TestImportClaudeFolders(t *testing.T) {
	work := t.TempDir()
	home := filepath.Join(work, "home")
	orig, err := os.ReadFile("testdata/import/transcript.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	transcript := func(base, id string) {
		t.Helper()
		project := filepath.Join(base, "projects", "-home-dev-blog")
		if err := os.MkdirAll(project, 0o700); err != nil {
			t.Fatal(err)
		}
		b := bytes.ReplaceAll(orig, []byte("7d3f9a2c-1b4e-4c8d-9e6f-0a1b2c3d4e5f"), []byte(id))
		if err := os.WriteFile(filepath.Join(project, id+".jsonl"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	transcript(filepath.Join(home, ".config", "claude"), "11111111-1b4e-4c8d-9e6f-0a1b2c3d4e5f")
	transcript(filepath.Join(home, ".claude"), "22222222-1b4e-4c8d-9e6f-0a1b2c3d4e5f")
	other := filepath.Join(work, "other")
	transcript(other, "33333333-1b4e-4c8d-9e6f-0a1b2c3d4e5f")
	linked := filepath.Join(work, "linked")
	if err := os.MkdirAll(filepath.Join(linked, ".claude"), 0o700); err != nil {
		t.Fatal(err)
	}
	transcript(filepath.Join(linked, ".claude"), "44444444-1b4e-4c8d-9e6f-0a1b2c3d4e5f")
	if err := os.MkdirAll(filepath.Join(linked, ".config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(linked, ".claude"), filepath.Join(linked, ".config", "claude")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, home, config string
		want               []string // the sessions' first characters
	}{
		{"both places", home, "", []string{"1", "2"}},
		{"one a link to the other", linked, "", []string{"4"}},
		{"a list in CLAUDE_CONFIG_DIR", home, filepath.Join(home, ".claude") + " , " + other + ",", []string{"2", "3"}},
	} {
		dir := filepath.Join(work, "s-"+strings.ReplaceAll(c.name, " ", "-"))
		res := runConvlog(t, work, nil, []string{"HOME=" + c.home, "XDG_CONFIG_HOME=", "CLAUDE_CONFIG_DIR=" + c.config},
			"import", "--claude", "--dir", dir)
		want := fmt.Sprintf("Imported %d files (0 updated), 0 unchanged, 0 failed: %d sessions", len(c.want), len(c.want))
		if len(c.want) == 1 {
			want = "Imported 1 file (0 updated), 0 unchanged, 0 failed: 1 session,"
		}
		if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte(want)) {
			t.Errorf("%s: exit %d: %s %s", c.name, res.code, res.stdout, res.stderr)
			continue
		}
		var got []string
		for _, f := range sessionFiles(t, dir) {
			db := testkit.OpenDB(t, f)
			var id string
			testkit.QueryRow(t, db, "SELECT agent_session_id FROM sessions", &id)
			got = append(got, id[:1])
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: sessions %v, want %v", c.name, got, c.want)
		}
	}
	res := runConvlog(t, work, nil, []string{"HOME=" + filepath.Join(work, "nobody"), "XDG_CONFIG_HOME=", "CLAUDE_CONFIG_DIR="}, "import", "--claude")
	if res.code != 1 || !bytes.Contains(res.stderr, []byte(filepath.Join(work, "nobody", ".config", "claude", "projects")+" or "+filepath.Join(work, "nobody", ".claude", "projects"))) {
		t.Errorf("no folder: exit %d: %s", res.code, res.stderr)
	}
}

// Copies of one transcript (in both of Claude Code's folders, or a backup)
// make one session, imported from the largest file, then the newest; the
// others are left out, and a second run finds the session unchanged.
func TestImportCopiesOfASession(t *testing.T) {
	work := t.TempDir()
	full, err := os.ReadFile("testdata/import/transcript.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	name := "7d3f9a2c-1b4e-4c8d-9e6f-0a1b2c3d4e5f.jsonl"
	lines := bytes.SplitAfter(full, []byte("\n"))
	write := func(dir string, b []byte, age time.Duration) string {
		t.Helper()
		p := filepath.Join(work, dir, "-home-dev-blog", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// An older copy, made while the session was still running: its first
	// lines, and newer than the whole file.
	whole := write("a", full, time.Hour)
	write("b", bytes.Join(lines[:6], nil), time.Minute)
	// The same bytes as the whole file, older.
	write("c", full, 2*time.Hour)
	for _, order := range [][]string{{"a", "b", "c"}, {"c", "b", "a"}} {
		dir := filepath.Join(work, "s-"+strings.Join(order, ""))
		for run := range 2 {
			res := runConvlog(t, work, nil, nil, append([]string{"import", "--dir", dir}, order...)...)
			want := "Imported 1 file (0 updated), 0 unchanged, 0 failed: 1 session, 14 messages"
			if run == 1 {
				want = "Imported 0 files (0 updated), 1 unchanged, 0 failed: 0 sessions"
			}
			if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte(want)) ||
				!bytes.Contains(res.stdout, []byte("\n2 files left out: copies of another file's session")) {
				t.Fatalf("%v, run %d: exit %d: %s %s", order, run+1, res.code, res.stdout, res.stderr)
			}
		}
		files := sessionFiles(t, dir)
		if len(files) != 1 {
			t.Fatalf("%v: %d session files", order, len(files))
		}
		var source string
		var msgs int
		db := testkit.OpenDB(t, files[0])
		testkit.QueryRow(t, db, "SELECT source_path, (SELECT count(*) FROM messages) FROM sessions", &source, &msgs)
		if source != whole || msgs != 14 {
			t.Errorf("%v: imported from %s, %d messages; want %s, 14", order, source, msgs, whole)
		}
	}
}

// Of two copies of a session, one with its sub-agents' transcripts and one
// without, the one with them is imported, though the other is newer.
func TestImportCopiesKeepSubagents(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	full := filepath.Join(work, "full")
	if err := os.CopyFS(full, os.DirFS("testdata/import/subagents")); err != nil {
		t.Fatal(err)
	}
	const name = "-home-dev-shop/5b1e2c3d-7a8f-4e9b-a0c1-d2e3f4a5b6c7.jsonl"
	bare := filepath.Join(work, "bare", name)
	if err := os.MkdirAll(filepath.Dir(bare), 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(full, name), bare)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(full, name), old, old); err != nil {
		t.Fatal(err)
	}
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", "bare", "full")
	if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte("Imported 3 files (0 updated), 0 unchanged, 0 failed: 1 session,")) ||
		!bytes.Contains(res.stdout, []byte("\n1 file left out: a copy of another file's session")) {
		t.Fatalf("exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	var sidechain int
	testkit.QueryRow(t, testkit.OpenDB(t, sessionFiles(t, filepath.Join(work, "s"))[0]), `SELECT count(*) FROM messages WHERE is_sidechain = 1`, &sidechain)
	if sidechain != 8 {
		t.Errorf("%d sub-agent lines, want 8", sidechain)
	}
}

// TestImportLargeFile: a file several times larger than an import writes
// between commits is imported whole, every line stored as it was, and its
// session ends as one imported in one piece would.
func TestImportLargeFile(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	var b strings.Builder
	var lines []string
	add := func(l string) { lines = append(lines, l); b.WriteString(l + "\n") }
	add(testkit.InitLine)
	filler := strings.Repeat("lorem ipsum ", 800)
	for i := 1; b.Len() < 30<<20; i++ {
		add(testkit.AssistantText(i, fmt.Sprintf("%d %s", i, filler)))
	}
	add(testkit.ResultLine)
	if err := os.WriteFile(filepath.Join(work, "big.jsonl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	db := testkit.OpenDB(t, importOne(t, work, "big.jsonl"))
	stored := testkit.StoredLines(t, db)
	if len(stored) != len(lines) {
		t.Fatalf("%d lines stored, %d imported", len(stored), len(lines))
	}
	for i, l := range stored {
		if string(l) != lines[i] {
			t.Fatalf("line %d stored as %.80q, was %.80q", i, l, lines[i])
		}
	}
	var total int64
	var result sql.NullString
	testkit.QueryRow(t, db, "SELECT total_messages, result_type FROM sessions", &total, &result)
	if total != int64(len(lines)) || result.String != "result" {
		t.Errorf("session row: %d messages, result %v", total, result)
	}
}

// Claude Code keeps each sub-agent's transcript in a file of its own,
// agent-<id>.jsonl (in <session>/subagents/ since 2.1, beside the session's
// transcript before), whose lines carry the session's id. Imported alone,
// each was taken for the session and replaced it: of a session and two
// sub-agents, one sub-agent's four lines were left. They are imported with
// their session, into one session, as `convlog tee` of the run stores
// them: every file's lines, tool calls and tokens.
func TestImportSubagentTranscripts(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	projects := filepath.Join(work, "projects")
	if err := os.CopyFS(projects, os.DirFS("testdata/import/subagents")); err != nil {
		t.Fatal(err)
	}
	project := filepath.Join(projects, "-home-dev-shop")
	const session = "5b1e2c3d-7a8f-4e9b-a0c1-d2e3f4a5b6c7"
	mainFile := filepath.Join(project, session+".jsonl")
	agents := []string{filepath.Join(project, session, "subagents", "agent-a7c2e41.jsonl"), filepath.Join(project, "agent-b91f03d.jsonl")}
	// What the files hold, counted from their text.
	var lines, uses int
	for _, f := range append([]string{mainFile}, agents...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines += bytes.Count(b, []byte("\n"))
		uses += bytes.Count(b, []byte(`"type":"tool_use"`))
	}
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", "projects")
	if want := fmt.Sprintf("Imported 3 files (0 updated), 0 unchanged, 0 failed: 1 session, %d messages, %d tool calls into s\n", lines, uses); res.code != 0 || string(res.stdout) != want {
		t.Fatalf("exit %d: %q, want %q; stderr %s", res.code, res.stdout, want, res.stderr)
	}
	files := sessionFiles(t, filepath.Join(work, "s"))
	if len(files) != 1 {
		t.Fatalf("session files %v, want one", files)
	}
	db := testkit.OpenDB(t, files[0])
	var agentSession, model, tools string
	var msgs, sidechain int
	testkit.QueryRow(t, db, `SELECT agent_session_id, model, total_messages FROM sessions`, &agentSession, &model, &msgs)
	testkit.QueryRow(t, db, `SELECT count(*) FROM messages WHERE is_sidechain = 1`, &sidechain)
	testkit.QueryRow(t, db, `SELECT group_concat(tool_name || ' ' || status, ', ') FROM (SELECT tool_name, status FROM tool_calls ORDER BY tool_name, tool_use_id)`, &tools)
	if agentSession != session || model != "claude-sonnet-4-5-20250929" || msgs != lines || sidechain != 8 ||
		tools != "Grep success, Read success, Task success, Task success" {
		t.Errorf("session %s, model %s, %d messages (%d sidechain), tools %s", agentSession, model, msgs, sidechain, tools)
	}
	// Each sub-agent's lines and tool calls hang from the Task call that
	// started it, as in stream-json: its tool_result line names the agent.
	var parents, callParents string
	testkit.QueryRow(t, db, `SELECT group_concat(p || ' ' || n, ', ') FROM (SELECT parent_tool_use_id AS p, count(*) AS n
		FROM messages WHERE is_sidechain = 1 GROUP BY 1 ORDER BY 1)`, &parents)
	testkit.QueryRow(t, db, `SELECT group_concat(tool_name || ' ' || coalesce(parent_tool_use_id, '-'), ', ') FROM
		(SELECT tool_name, parent_tool_use_id FROM tool_calls ORDER BY tool_name, tool_use_id)`, &callParents)
	if parents != "toolu_01Task 4, toolu_02Task 4" || callParents != "Grep toolu_01Task, Read toolu_02Task, Task -, Task -" {
		t.Errorf("sidechain messages by parent: %s; tool calls' parents: %s", parents, callParents)
	}
	// Each model's tokens: the session's own, and its sub-agents'.
	rows, err := db.Query(`SELECT model, sum(input_tokens), sum(output_tokens) FROM session_usage GROUP BY model ORDER BY model`)
	if err != nil {
		t.Fatal(err)
	}
	var usage []string
	for rows.Next() {
		var m string
		var in, out int
		if err := rows.Scan(&m, &in, &out); err != nil {
			t.Fatal(err)
		}
		usage = append(usage, fmt.Sprintf("%s %d/%d", m, in, out))
	}
	rows.Close()
	if got := strings.Join(usage, ", "); got != "claude-haiku-4-5-20251001 230/53, claude-sonnet-4-5-20250929 420/100" {
		t.Errorf("usage by model: %s", got)
	}
	// Its estimated cost prices each model's tokens at that model's
	// price, in convlog query and on its page alike (the page priced all
	// of them at the session's model's).
	sonnet, ok1 := report.PriceOf("claude-sonnet-4-5-20250929")
	haiku, ok2 := report.PriceOf("claude-haiku-4-5-20251001")
	if !ok1 || !ok2 {
		t.Fatal("no list price for the models of the fixture")
	}
	want := sonnet.Cost(report.TokenCounts{Input: 420, Output: 100}) + haiku.Cost(report.TokenCounts{Input: 230, Output: 53})
	q := runConvlog(t, work, nil, nil, "query", session, "--dir", "s", "--json")
	var qs struct {
		Session struct {
			Estimate *float64 `json:"estimated_cost_usd"`
		} `json:"session"`
	}
	if err := json.Unmarshal(q.stdout, &qs); err != nil || qs.Session.Estimate == nil || math.Abs(*qs.Session.Estimate-want) > 1e-9 {
		t.Errorf("query: estimate %v, want %v (%v): %s", qs.Session.Estimate, want, err, q.stderr)
	}
	page := filepath.Join(work, "page.html")
	if h := runConvlog(t, work, nil, nil, "html", session, "--dir", "s", "-o", page); h.code != 0 {
		t.Fatalf("html: exit %d: %s", h.code, h.stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"cost":([0-9.e-]+),"costKind":"estimated"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the page shows no estimated cost")
	}
	if got, err := strconv.ParseFloat(string(m[1]), 64); err != nil || math.Abs(got-want) > 1e-9 {
		t.Errorf("page: estimate %s, want %v", m[1], want)
	}

	// Unchanged: nothing read again. A sub-agent's transcript that grew:
	// the session is imported again, whole.
	res = runConvlog(t, work, nil, nil, "import", "--dir", "s", "projects")
	if want := "Imported 0 files (0 updated), 3 unchanged, 0 failed: 0 sessions, 0 messages, 0 tool calls into s\n"; string(res.stdout) != want {
		t.Errorf("again: %q", res.stdout)
	}
	f, err := os.OpenFile(agents[1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, `{"parentUuid":null,"isSidechain":true,"sessionId":%q,"agentId":"b91f03d","type":"user","message":{"role":"user","content":"one more"},"uuid":"33333333-0000-4000-8000-000000000009","timestamp":"2026-11-02T09:00:11.000Z"}`+"\n", session)
	f.Close()
	res = runConvlog(t, work, nil, nil, "import", "--dir", "s", "projects")
	if want := fmt.Sprintf("Imported 3 files (3 updated), 0 unchanged, 0 failed: 1 session, %d messages, %d tool calls into s\n", lines+1, uses); string(res.stdout) != want {
		t.Errorf("after a sub-agent's transcript grew: %q, want %q", res.stdout, want)
	}

	// A sub-agent's transcript imported without its session's is a session
	// of its own, which the session's import does not replace.
	res = runConvlog(t, work, nil, nil, "import", "--dir", "alone", agents[0])
	res2 := runConvlog(t, work, nil, nil, "import", "--dir", "alone", mainFile)
	if res.code != 0 || res2.code != 0 || len(sessionFiles(t, filepath.Join(work, "alone"))) != 2 {
		t.Fatalf("imported apart: %s %s %s %s; files %v", res.stdout, res.stderr, res2.stdout, res2.stderr, sessionFiles(t, filepath.Join(work, "alone")))
	}
}

// Claude Code's transcript of a resumed (or continued) session begins with
// the earlier session's lines, under the earlier session's id, and is
// named for its own id, which its later lines carry. Taken for the earlier
// session, it and the earlier session's transcript replaced each other at
// every import, whichever came last. Each is a session of its own; the
// repeated lines are stored, and their tokens are counted once, in the
// earlier session.
func TestImportResumedTranscript(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	const first, resumed = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f1", "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
	line := func(session, kind, uuid, ts, body string) string {
		return fmt.Sprintf(`{"parentUuid":null,"isSidechain":false,"cwd":"/home/dev/shop","sessionId":%q,"version":"2.1.3","type":%q,%s,"uuid":%q,"timestamp":%q}`,
			session, kind, body, uuid, ts)
	}
	user := func(text string) string { return fmt.Sprintf(`"message":{"role":"user","content":%q}`, text) }
	answer := func(id string, in, out int) string {
		return fmt.Sprintf(`"message":{"id":%q,"type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":%d,"output_tokens":%d}}`, id, in, out)
	}
	earlier := []string{
		line(first, "user", "u1", "2026-11-03T09:00:00.000Z", user("fix the cart")),
		line(first, "assistant", "a1", "2026-11-03T09:00:05.000Z", answer("msg_first", 100, 10)),
	}
	later := append(append([]string{}, earlier...),
		line(resumed, "user", "u2", "2026-11-04T10:00:00.000Z", user("and the tests")),
		line(resumed, "assistant", "a2", "2026-11-04T10:00:07.000Z", answer("msg_resumed", 200, 20)))
	dir := filepath.Join(work, "projects", "-home-dev-shop")
	os.MkdirAll(dir, 0o700)
	for name, lines := range map[string][]string{first: earlier, resumed: later} {
		if err := os.WriteFile(filepath.Join(dir, name+".jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", "projects")
	if want := "Imported 2 files (0 updated), 0 unchanged, 0 failed: 2 sessions, 6 messages, 0 tool calls into s\n"; res.code != 0 || string(res.stdout) != want {
		t.Fatalf("exit %d: %q; stderr %s", res.code, res.stdout, res.stderr)
	}
	files := sessionFiles(t, filepath.Join(work, "s"))
	if len(files) != 2 {
		t.Fatalf("session files %v, want two", files)
	}
	got := map[string]string{}
	for _, f := range files {
		var agent string
		var msgs, in, out int
		testkit.QueryRow(t, testkit.OpenDB(t, f), `SELECT agent_session_id, total_messages, input_tokens, output_tokens FROM sessions`, &agent, &msgs, &in, &out)
		got[agent] = fmt.Sprintf("%d messages, %d/%d tokens", msgs, in, out)
	}
	if got[first] != "2 messages, 100/10 tokens" || got[resumed] != "4 messages, 200/20 tokens" {
		t.Errorf("sessions: %v", got)
	}
	res = runConvlog(t, work, nil, nil, "import", "--dir", "s", "projects")
	if want := "Imported 0 files (0 updated), 2 unchanged, 0 failed: 0 sessions, 0 messages, 0 tool calls into s\n"; string(res.stdout) != want {
		t.Errorf("again: %q", res.stdout)
	}
}

// Files saved on Windows: with a UTF-8 byte order mark (Notepad, Windows
// PowerShell's Out-File -Encoding utf8), or in UTF-16 with CRLF line ends
// (Windows PowerShell 5's > and Out-File). The mark made the first line no
// JSON, stored as an error; a UTF-16 file was "not JSONL". Each now makes
// the session its UTF-8 original makes, its first line a user message
// without the mark (a CRLF line keeps its CR, as in any file).
func TestImportWindowsEncodings(t *testing.T) {
	t.Parallel()
	const session = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
	line := func(kind, uuid, ts, body string) string {
		return fmt.Sprintf(`{"parentUuid":null,"isSidechain":false,"cwd":"C:\\src\\shop","sessionId":%q,"version":"2.1.3","type":%q,%s,"uuid":%q,"timestamp":%q}`,
			session, kind, body, uuid, ts)
	}
	text := strings.Join([]string{
		line("user", "u1", "2026-11-03T09:00:00.000Z", `"message":{"role":"user","content":"fix the café 端口 🦀 test"}`),
		line("assistant", "a1", "2026-11-03T09:00:05.000Z", `"message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"done 🦀"}],"usage":{"input_tokens":100,"output_tokens":10}}`),
	}, "\n") + "\n"
	utf16le := func(s string) []byte {
		b := []byte{0xff, 0xfe}
		for _, u := range utf16.Encode([]rune(strings.ReplaceAll(s, "\n", "\r\n"))) {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		return b
	}
	for name, data := range map[string][]byte{
		"utf8.jsonl":    []byte(text),
		"bom.jsonl":     append([]byte("\xef\xbb\xbf"), text...),
		"utf16le.jsonl": utf16le(text),
	} {
		work := t.TempDir()
		p := filepath.Join(work, session+".jsonl")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		db := testkit.OpenDB(t, importOne(t, work, p))
		var first, firstType, model string
		var msgs, in, out int
		testkit.QueryRow(t, db, `SELECT total_messages, input_tokens, output_tokens, model FROM sessions`, &msgs, &in, &out, &model)
		testkit.QueryRow(t, db, `SELECT type, raw_message FROM messages WHERE sequence = 0`, &firstType, &first)
		if msgs != 2 || in != 100 || out != 10 || model != "claude-sonnet-4-5-20250929" || firstType != "user" || !strings.HasPrefix(text, strings.TrimSuffix(first, "\r")+"\n") {
			t.Errorf("%s: %d messages, %d/%d tokens, model %q; first line %s %.40q", name, msgs, in, out, model, firstType, first)
		}
	}
	// Through tee, the mark is passed on (the output is the input), and
	// left out of the stored line as on import.
	work := t.TempDir()
	in := append([]byte("\xef\xbb\xbf"), text...)
	res := runConvlog(t, work, in, nil, "tee", "--quiet", "--dir", "s")
	if res.code != 0 || !bytes.Equal(res.stdout, in) {
		t.Fatalf("tee: exit %d, output %.40q; stderr %s", res.code, res.stdout, res.stderr)
	}
	files := sessionFiles(t, filepath.Join(work, "s"))
	if len(files) != 1 {
		t.Fatalf("session files %v", files)
	}
	var firstType, first string
	testkit.QueryRow(t, testkit.OpenDB(t, files[0]), `SELECT type, raw_message FROM messages WHERE sequence = 0`, &firstType, &first)
	if firstType != "user" || first+"\n" != text[:len(first)+1] {
		t.Errorf("tee: first line %s %.40q", firstType, first)
	}
}

// Codex's own session files (rollouts), found where Codex keeps them:
// each is a codex session with its id, model, folder, tokens (the last
// running total) and result, and every call the model made is a tool call,
// paired on call_id. The facts below are read off the two fixtures: one of
// Codex 0.125 (unified exec: a command still running when its call is
// answered ends with its exec_command_end; write_stdin polls it), one of
// 0.46 (shell and shell_command, outputs wrapped in JSON or headed by
// "Exit code:"), and one shaped as rollouts were before the payload
// envelope (mid 2025), which convlog took for Gemini CLI's.
func TestImportCodexSessions(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	home := filepath.Join(work, "home")
	for from, to := range map[string]string{
		"codex-rollout.jsonl":       ".codex/sessions/2026/05/11/rollout-2026-05-11T08-26-55-019e2a10-4b7c-7d21-9f3e-5a6b7c8d9e0f.jsonl",
		"codex-rollout-shell.jsonl": ".codex/archived_sessions/rollout-2025-10-29T00-59-38-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5.jsonl",
		"codex-rollout-2025.jsonl":  ".codex/sessions/2025/06/02/rollout-2025-06-02T10-00-00-5973b6c0-94b8-487b-a530-2aeb6098ae0e.jsonl",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(home, to)), 0o700)
		copyFile(t, filepath.Join("testdata/import", from), filepath.Join(home, to))
	}
	env := []string{"HOME=" + home}
	res := runConvlog(t, work, nil, env, "import", "--dir", "s", "--codex")
	if want := "Imported 3 files (0 updated), 0 unchanged, 0 failed: 3 sessions, 61 messages, 15 tool calls into s\n"; res.code != 0 || string(res.stdout) != want {
		t.Fatalf("exit %d: %q; stderr %s", res.code, res.stdout, res.stderr)
	}
	sessions := map[string]string{}
	calls := map[string][]string{}
	for _, f := range sessionFiles(t, filepath.Join(work, "s")) {
		db := testkit.OpenDB(t, f)
		var id, agent, model, cwd, format, result string
		var in, cached, out, isErr, prompt int
		testkit.QueryRow(t, db, `SELECT agent_session_id, agent, coalesce(model, '-'), coalesce(cwd, '-'), source_format, coalesce(result_type || '/' || coalesce(result_subtype, ''), '-'),
			coalesce(is_error, -1), coalesce(input_tokens, -1), coalesce(cache_read_input_tokens, -1), coalesce(output_tokens, -1), coalesce(prompt_length, -1) FROM sessions`,
			&id, &agent, &model, &cwd, &format, &result, &isErr, &in, &cached, &out, &prompt)
		sessions[id] = fmt.Sprintf("%s %s %s %s %s %d; tokens %d+%d/%d; prompt %d", agent, model, cwd, format, result, isErr, in, cached, out, prompt)
		calls[id] = toolCallLines(t, db)
	}
	const now, older, oldest = "019e2a10-4b7c-7d21-9f3e-5a6b7c8d9e0f", "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5", "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
	// Before the payload envelope, a rollout had no model, folder, tokens or
	// result; its "message" lines are no Gemini CLI's.
	if want := "codex - - codex-rollout - -1; tokens -1+-1/-1; prompt -1"; sessions[oldest] != want {
		t.Errorf("2025 session: %q\nwant %q", sessions[oldest], want)
	}
	if want := "codex gpt-5.5 /home/dev/shop codex-rollout task_complete/ 0; tokens 2200+3000/310; prompt 24"; sessions[now] != want {
		t.Errorf("0.125 session: %q\nwant %q", sessions[now], want)
	}
	if want := "codex gpt-5-codex /home/dev/blog codex-rollout turn_aborted/interrupted 1; tokens 1922+1024/77; prompt 28"; sessions[older] != want {
		t.Errorf("0.46 session: %q\nwant %q", sessions[older], want)
	}
	for id, want := range map[string][]string{
		now: {
			`Bash error 5298 {"command":"go test ./cart/..."} Exit code 1`,
			`write_stdin success 3600 {"session_id":48230,"chars":"","yield_time_ms":5000} Chunk ID: b7c2d9`,
			`Bash success 300 {"command":"sed -n '1,40p' cart/total.go"} Chunk ID: c1d2e3`,
			`WebSearch success -1 {"query":"go rounding half even cents"} `,
			`Edit success 2690 {"patch":"*** Begin Patch\n*** Update File: cart/total.go\n@@\n-\treturn sum\n+\treturn round(sum)\n*** End Patch\n"} Success. Updated the following files:`,
			`update_plan success 127 {"plan":[{"step":"Fix rounding","status":"completed"}]} Plan updated`,
			`Bash pending -1 {"command":"go vet ./..."} `,
		},
		older: {
			`Bash error 2250 {"command":"bash -lc 'make feed'"} Exit code 2`,
			`Bash error 210 {"command":"grep -n atom go.mod"} Exit code 1`,
			// Codex's own words for a call that failed without running, or
			// was refused: a sandbox's exit code, a rejection, a patch
			// that does not apply.
			`Bash error 600 {"command":"bash -lc 'go get golang.org/x/tools/blog/atom'"} Exit code 1`,
			`Bash error 10 {"command":"bash -lc 'rm -rf vendor'"} exec command rejected by user`,
			`Edit error 10 {"patch":"*** Begin Patch\n*** Update File: go.mod\n@@\n require (\n+\tgolang.org/x/tools v0.38.0\n )\n*** End Patch\n"} patch rejected by user`,
			`Edit error 5 {"patch":"*** Begin Patch\n*** Update File: feed.go\n@@\n-import \"atom\"\n+import \"golang.org/x/tools/blog/atom\"\n*** End Patch\n"} apply_patch verification failed: Failed to find expected lines in /home/dev/blog/feed.go:`,
		},
		oldest: {
			`Bash success -1 {"command":"bash -lc 'printf '\\''# Blog'\\'' > README.md'"} `,
			`Bash error -1 {"command":"bash -lc 'cat READ.md'"} Exit code 1`,
		},
	} {
		if got := calls[id]; !slices.Equal(got, want) {
			t.Errorf("%s tool calls:\n%s\nwant\n%s", id, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// What the user typed and what the agent said are found; Codex's own
	// instructions to the model are not.
	res = runConvlog(t, work, nil, env, "search", "--dir", "s", "--archive", "a.db", "--json", "cents")
	if n := bytes.Count(res.stdout, []byte("\n")); res.code != 0 || n != 2 || !bytes.Contains(res.stdout, []byte(`"where":"assistant"`)) {
		t.Errorf("search cents: exit %d, %d hits: %s%s", res.code, n, res.stdout, res.stderr)
	}
	res = runConvlog(t, work, nil, env, "search", "--dir", "s", "--archive", "a.db", "sandbox_mode")
	if len(res.stdout) > 0 {
		t.Errorf("search of the instructions: %s", res.stdout)
	}
	res = runConvlog(t, work, nil, env, "import", "--dir", "s", "--codex")
	if want := "Imported 0 files (0 updated), 3 unchanged, 0 failed: 0 sessions, 0 messages, 0 tool calls into s\n"; string(res.stdout) != want {
		t.Errorf("again: %q", res.stdout)
	}
	res = runConvlog(t, work, nil, []string{"CODEX_HOME=" + filepath.Join(work, "none")}, "import", "--dir", "s", "--codex")
	if res.code == 0 || !strings.Contains(string(res.stderr), "convlog: --codex: no Codex sessions folder at "+filepath.Join(work, "none", "sessions")+"; set CODEX_HOME") {
		t.Errorf("no folder: exit %d: %s", res.code, res.stderr)
	}
}

// A Claude Code session opened and left without a prompt leaves a
// transcript of file-history-snapshot lines only, which name no session;
// some versions also wrote files of summary lines only. Each was imported
// as a session of no agent and no agent session id, of no time, and
// "incomplete" (taken for a stream that stopped before its result): noise
// in list and stats on every machine. They are Claude Code's transcripts,
// named for their sessions, and the snapshots carry their times (summaries
// carry none: such a session stays undated).
func TestImportTranscriptsThatNameNoSession(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	const opened, titles = "0b6f3c1e-7a1d-4c55-9a0e-2f9d3e8b1c11", "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	snapshot := func(msg, ts string) string {
		return fmt.Sprintf(`{"type":"file-history-snapshot","messageId":%q,"snapshot":{"messageId":%q,"trackedFileBackups":{},"timestamp":%q},"isSnapshotUpdate":false}`, msg, msg, ts)
	}
	dir := filepath.Join(work, "projects", "-home-dev-shop")
	os.MkdirAll(dir, 0o700)
	titled := time.Date(2026, 11, 3, 9, 0, 0, 250e6, time.UTC)
	for name, lines := range map[string][]string{
		opened: {snapshot("4f1c2a3b-1111-4c55-9a0e-2f9d3e8b1c11", "2026-11-02T10:15:00.123Z"), snapshot("5f1c2a3b-1111-4c55-9a0e-2f9d3e8b1c11", "2026-11-02T10:16:00.500Z")},
		titles: {`{"type":"summary","summary":"Cart totals fixed","leafUuid":"a1b2c3d4-0000-4c55-9a0e-2f9d3e8b1c11"}`},
	} {
		f := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, titled, titled); err != nil {
			t.Fatal(err)
		}
	}
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", "projects")
	if want := "Imported 2 files (0 updated), 0 unchanged, 0 failed: 2 sessions, 3 messages, 0 tool calls into s\n" +
		"1 file carried no timestamps: their start times and durations are unknown (NULL); each ended when its file was last modified.\n"; res.code != 0 || string(res.stdout) != want {
		t.Fatalf("exit %d: %q; stderr %s", res.code, res.stdout, res.stderr)
	}
	got := map[string]string{}
	for _, f := range sessionFiles(t, filepath.Join(work, "s")) {
		var agent, id, format string
		var started, ended sql.NullInt64
		testkit.QueryRow(t, testkit.OpenDB(t, f), `SELECT agent, agent_session_id, source_format, started_at, ended_at FROM sessions`, &agent, &id, &format, &started, &ended)
		got[id] = fmt.Sprintf("%s %s %v-%v", agent, format, started.Int64, ended.Int64)
	}
	start := time.Date(2026, 11, 2, 10, 15, 0, 123e6, time.UTC).UnixMilli()
	if want := fmt.Sprintf("claude-code transcript %d-%d", start, start+60377); got[opened] != want {
		t.Errorf("snapshots only: %q, want %q (all: %v)", got[opened], want, got)
	}
	// No time but the file's: ended when it was last written, start unknown.
	if want := fmt.Sprintf("claude-code transcript 0-%d", titled.UnixMilli()); got[titles] != want {
		t.Errorf("summaries only: %q, want %q (all: %v)", got[titles], want, got)
	}
}

// A session imported again from a transcript whose lines changed from the
// first on (an older convlog took a sub-agent's transcript for its
// session, and the next import puts the session's own lines there) is
// taken into the archive whole: the archive kept the rows it had for the
// first sequence numbers, and only added those past them.
func TestImportReplacedSessionInArchive(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	const session = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
	write := func(texts ...string) {
		var b strings.Builder
		for i, text := range texts {
			fmt.Fprintf(&b, `{"parentUuid":null,"isSidechain":false,"sessionId":%q,"type":"user","message":{"role":"user","content":%q},"uuid":"u%d","timestamp":"2026-11-05T09:00:0%d.000Z"}`+"\n", session, text, i, i)
		}
		if err := os.WriteFile(filepath.Join(work, session+".jsonl"), []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	texts := func() string {
		res := runConvlog(t, work, nil, nil, "sql", "--dir", "s", "--csv", "SELECT json_extract(raw_message, '$.message.content') FROM messages ORDER BY sequence")
		if res.code != 0 {
			t.Fatalf("sql: exit %d: %s", res.code, res.stderr)
		}
		return strings.Join(strings.Fields(string(res.stdout)), " ")
	}
	write("old-a", "old-b", "old-c")
	if res := runConvlog(t, work, nil, nil, "import", "--dir", "s", session+".jsonl"); res.code != 0 {
		t.Fatalf("import: %s", res.stderr)
	}
	if got := texts(); !strings.HasSuffix(got, "old-a old-b old-c") {
		t.Fatalf("archive after the first import: %s", got)
	}
	write("new-a", "new-b", "new-c", "new-d")
	if res := runConvlog(t, work, nil, nil, "import", "--dir", "s", session+".jsonl"); res.code != 0 || !bytes.Contains(res.stdout, []byte("(1 updated)")) {
		t.Fatalf("import again: %s %s", res.stdout, res.stderr)
	}
	if got := texts(); !strings.HasSuffix(got, "new-a new-b new-c new-d") || strings.Contains(got, "old") {
		t.Errorf("archive after the second import: %s", got)
	}
}

// Since Claude Code 2.1.2 a tool's output over 100K characters (50K since
// 2.1.51) is kept in <session>/tool-results/<id>.txt, and the transcript's
// tool_result holds "<persisted-output>", the file's path and a 2 KB
// preview. The import stores the whole output as the tool call's, redacted
// as lines are; the line stays as it was. A file that is gone leaves the
// preview.
func TestImportPersistedToolOutput(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	const session = "7e6d5c4b-3a29-4817-b6a5-c4d3e2f1a0b9"
	project := filepath.Join(work, "projects", "-home-dev-shop")
	results := filepath.Join(project, session, "tool-results")
	if err := os.MkdirAll(results, 0o700); err != nil {
		t.Fatal(err)
	}
	var full strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&full, "build step %04d ok\n", i)
		if i == 2500 {
			full.WriteString("export GITHUB_TOKEN=" + secretGitHub + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(results, "toolu_01Big.txt"), []byte(full.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	preview := func(id string) string {
		return fmt.Sprintf("<persisted-output>\nOutput too large (%.1fKB). Full output saved to: /home/dev/.claude/projects/-home-dev-shop/%s/tool-results/%s.txt\n\nPreview (first 2KB):\n%s\n</persisted-output>",
			float64(full.Len())/1000, session, id, full.String()[:2000])
	}
	var b strings.Builder
	at := func(s int) string { return fmt.Sprintf("2026-11-06T09:00:%02d.000Z", s) }
	fmt.Fprintf(&b, `{"parentUuid":null,"isSidechain":false,"sessionId":%q,"type":"user","message":{"role":"user","content":"build it"},"uuid":"u0","timestamp":%q}`+"\n", session, at(0))
	for i, id := range []string{"toolu_01Big", "toolu_02Gone"} {
		fmt.Fprintf(&b, `{"parentUuid":null,"isSidechain":false,"sessionId":%q,"type":"assistant","message":{"id":"msg_%d","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":%q,"name":"Bash","input":{"command":"make"}}]},"uuid":"a%d","timestamp":%q}`+"\n", session, i, id, i, at(1+2*i))
		// As Claude Code writes it: < and > are not escaped.
		var content bytes.Buffer
		enc := json.NewEncoder(&content)
		enc.SetEscapeHTML(false)
		enc.Encode(preview(id))
		fmt.Fprintf(&b, `{"parentUuid":null,"isSidechain":false,"sessionId":%q,"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":%q,"content":%s}]},"uuid":"r%d","timestamp":%q}`+"\n", session, id, bytes.TrimSpace(content.Bytes()), i, at(2+2*i))
	}
	if err := os.WriteFile(filepath.Join(project, session+".jsonl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	db := testkit.OpenDB(t, importOne(t, work, "projects"))
	outputs := map[string]string{}
	rows, err := db.Query(`SELECT tool_use_id, tool_output FROM tool_calls`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, out string
		if err := rows.Scan(&id, &out); err != nil {
			t.Fatal(err)
		}
		outputs[id] = out
	}
	rows.Close()
	want := strings.Replace(full.String(), secretGitHub, "[REDACTED:github]", 1)
	if outputs["toolu_01Big"] != want {
		t.Errorf("the persisted output: %d bytes, want the file's %d, redacted (secret kept: %v)",
			len(outputs["toolu_01Big"]), len(want), strings.Contains(outputs["toolu_01Big"], secretGitHub))
	}
	if !strings.HasPrefix(outputs["toolu_02Gone"], "<persisted-output>") {
		t.Errorf("an output whose file is gone: %.60q, want the preview", outputs["toolu_02Gone"])
	}
	var lines int
	testkit.QueryRow(t, db, `SELECT count(*) FROM messages WHERE raw_message LIKE '%<persisted-output>%'`, &lines)
	if lines != 2 {
		t.Errorf("%d lines keep their preview, want 2", lines)
	}
}

// toolCallLines are a session file's tool calls, one line each: name,
// status, duration, input, and the first line of the error or output.
func toolCallLines(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT tool_name, status, coalesce(duration_ms, -1), tool_input, coalesce(error, tool_output, '') FROM tool_calls ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var calls []string
	for rows.Next() {
		var name, status, input, output string
		var ms int
		if err := rows.Scan(&name, &status, &ms, &input, &output); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(output, "\n")
		calls = append(calls, fmt.Sprintf("%s %s %d %s %s", name, status, ms, input, first))
	}
	return calls
}

// Gemini CLI's saved chats, found where it keeps them
// (~/.gemini/tmp/<project>/chats/session-*.json, one JSON document a
// session): each is a gemini-cli session whose lines are the document
// without its messages, then each message; every tool call is one, with
// its result; a command's non-zero exit, an error and a cancelled call are
// errors; tokens are each model turn's own, summed. The facts below are
// read off the fixture, which is shaped like real chats of Gemini CLI
// 0.1x-0.3x.
func TestImportGeminiChats(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	home := filepath.Join(work, "home")
	const id = "3f2a9c1e-7b4d-4e21-9a0c-5d6e7f8a9b0c"
	chats := filepath.Join(home, ".gemini", "tmp", "9d4c2b7a", "chats")
	os.MkdirAll(chats, 0o700)
	copyFile(t, "testdata/import/gemini/session-2026-02-03T09-15-3f2a9c1e.json", filepath.Join(chats, "session-2026-02-03T09-15-3f2a9c1e.json"))
	// Prompts only, beside the chats: not a session.
	copyFile(t, "testdata/import/gemini/logs.json", filepath.Join(home, ".gemini", "tmp", "9d4c2b7a", "logs.json"))
	env := []string{"HOME=" + home}
	res := runConvlog(t, work, nil, env, "import", "--dir", "s", "--gemini")
	if want := "Imported 1 file (0 updated), 0 unchanged, 0 failed: 1 session, 8 messages, 4 tool calls into s\n"; res.code != 0 || string(res.stdout) != want {
		t.Fatalf("exit %d: %q; stderr %s", res.code, res.stdout, res.stderr)
	}
	files := sessionFiles(t, filepath.Join(work, "s"))
	db := testkit.OpenDB(t, files[0])
	var session string
	var started, ended, in, cached, out, prompt int64
	testkit.QueryRow(t, db, `SELECT agent || ' ' || agent_session_id || ' ' || model || ' ' || source_format || ' ' || coalesce(result_type, '-'),
		started_at, ended_at, input_tokens, cache_read_input_tokens, output_tokens, prompt_length FROM sessions`,
		&session, &started, &ended, &in, &cached, &out, &prompt)
	// gemini-2.5-pro did most of the work (12,280 tokens to flash's 6,275).
	// Input: 5200-1300 + 6100-4800+25 (the tool-use prompt) + 6900-5900;
	// output: 40+60 + 120+30 + 80 (thoughts are output).
	if want := "gemini-cli " + id + " gemini-2.5-pro gemini-chat -"; session != want {
		t.Errorf("session %q, want %q", session, want)
	}
	start := time.Date(2026, 2, 3, 9, 15, 2, 100e6, time.UTC).UnixMilli()
	if started != start || ended != start+87900 || in != 6225 || cached != 12000 || out != 330 || prompt != 49 {
		t.Errorf("times %d-%d (want %d-%d), tokens %d+%d/%d (want 6225+12000/330), prompt %d (want 49)",
			started, ended, start, start+87900, in, cached, out, prompt)
	}
	// The lines: the document without its messages first, each message
	// without the whitespace between its tokens and otherwise as written.
	lines := testkit.StoredLines(t, db)
	if want := `{"sessionId":"` + id + `","projectHash":"9d4c2b7a1e0f3c5d8b6a4e2f1c0d9b8a7e6f5d4c3b2a1f0e9d8c7b6a5f4e3d2c","startTime":"2026-02-03T09:15:02.100Z","lastUpdated":"2026-02-03T09:16:30.000Z","kind":"main"}`; string(lines[0]) != want {
		t.Errorf("first line %s\nwant %s", lines[0], want)
	}
	if want := `{"id":"b1c2d3e4-0005-4a5b-8c9d-0e1f2a3b4c5d","timestamp":"2026-02-03T09:16:00.000Z","type":"user","content":[{"text":"fix it, keep half-even rounding"}]}`; string(lines[5]) != want {
		t.Errorf("line 5 %s\nwant %s", lines[5], want)
	}
	var types []string
	rows, err := db.Query(`SELECT type FROM messages ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var typ string
		rows.Scan(&typ)
		types = append(types, typ)
	}
	rows.Close()
	if want := []string{"session", "user", "gemini", "gemini", "info", "user", "gemini", "error"}; !slices.Equal(types, want) {
		t.Errorf("types %v, want %v", types, want)
	}
	calls := toolCallLines(t, db)
	want := []string{
		`read_file success 120 {"absolute_path":"/home/dev/shop/cart/total_test.go"} package cart`,
		// Gemini says success: the tool ran. The command exited 1.
		`run_shell_command error 3400 {"command":"go test ./cart/...","description":"Run the cart tests."} Exit code 1`,
		`replace error 100 {"file_path":"/home/dev/shop/cart/total.go","old_string":"math.Round(x)","new_string":"math.RoundToEven(x)"} Failed to edit, could not find the string to replace.`,
		`run_shell_command error 16500 {"command":"rm -rf /tmp/cache"} [Operation Cancelled] Reason: User cancelled the operation.`,
	}
	if !slices.Equal(calls, want) {
		t.Errorf("tool calls:\n%s\nwant\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	// A call starts with its turn and ends at its own time.
	var began, completed int64
	testkit.QueryRow(t, db, `SELECT timestamp, completed_at FROM tool_calls ORDER BY rowid LIMIT 1`, &began, &completed)
	if began != start+2900 || completed != start+3020 {
		t.Errorf("first call from %d to %d, want %d to %d", began, completed, start+2900, start+3020)
	}

	// What the user typed (in parts, too), what the model said and
	// thought, and the CLI's errors are found.
	for word, where := range map[string]string{"half-even": "user", "zero": "assistant", "banker": "thinking", "quota": "error"} {
		res = runConvlog(t, work, nil, env, "search", "--dir", "s", "--archive", "a.db", "--json", word)
		if res.code != 0 || !bytes.Contains(res.stdout, []byte(`"where":"`+where+`"`)) {
			t.Errorf("search %s: exit %d: %s%s", word, res.code, res.stdout, res.stderr)
		}
	}
	// The summary's answer is the model's last turn, and the error after it.
	res = runConvlog(t, work, nil, env, "query", "--dir", "s", "--markdown", id)
	if res.code != 0 || !bytes.Contains(res.stdout, []byte("round half to even")) || !bytes.Contains(res.stdout, []byte("Quota exceeded")) {
		t.Errorf("query --markdown: exit %d: %s%s", res.code, res.stdout, res.stderr)
	}

	res = runConvlog(t, work, nil, env, "import", "--dir", "s", "--gemini")
	if want := "Imported 0 files (0 updated), 1 unchanged, 0 failed: 0 sessions, 0 messages, 0 tool calls into s\n"; string(res.stdout) != want {
		t.Errorf("again: %q", res.stdout)
	}
	res = runConvlog(t, work, nil, []string{"GEMINI_CLI_HOME=" + filepath.Join(work, "none")}, "import", "--dir", "s", "--gemini")
	if res.code == 0 || !strings.Contains(string(res.stderr), "convlog: --gemini: no Gemini CLI folder at "+filepath.Join(work, "none", ".gemini", "tmp")+"; set GEMINI_CLI_HOME") {
		t.Errorf("no folder: exit %d: %s", res.code, res.stderr)
	}
}

// `claude -p --output-format json` with --verbose (or Claude Code's verbose
// view mode in its settings) prints every message of the run as one JSON
// array, on one line: tee and import read it as the stream-json lines it
// holds, the same session as the run's stream-json would be; the bytes
// pass through as they came. Before, tee stored one line that was not a
// message, with no model, tool calls or result, and import refused the
// file.
func TestVerboseJSONArray(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	stream, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(stream, []byte("\n")), []byte("\n"))
	array := append(append([]byte("["), bytes.Join(lines, []byte(","))...), "]\n"...)

	res := runConvlog(t, work, array, nil, "tee", "-q", "--dir", "array")
	if res.code != 0 || !bytes.Equal(res.stdout, array) || len(res.stderr) != 0 {
		t.Fatalf("tee: exit %d, stdout the input: %v; stderr %s", res.code, bytes.Equal(res.stdout, array), res.stderr)
	}
	res = runConvlog(t, work, stream, nil, "tee", "-q", "--dir", "stream")
	if res.code != 0 {
		t.Fatalf("tee of the stream: exit %d: %s", res.code, res.stderr)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, array, "", "  "); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(work, "run.json"), indented.Bytes(), 0o600)
	res = runConvlog(t, work, nil, nil, "import", "--dir", "imported", "run.json")
	if res.code != 0 {
		t.Fatalf("import: exit %d: %s%s", res.code, res.stdout, res.stderr)
	}
	// Arrays appended to one file, a line each, are JSONL too (here the
	// same run twice: its calls are stored once).
	os.WriteFile(filepath.Join(work, "runs.jsonl"), append(append([]byte{}, array...), array...), 0o600)
	res = runConvlog(t, work, nil, nil, "import", "--dir", "appended", "runs.jsonl")
	if want := "Imported 1 file (0 updated), 0 unchanged, 0 failed: 1 session, 36 messages, 7 tool calls into appended\n"; res.code != 0 || !bytes.HasPrefix(res.stdout, []byte(want)) {
		t.Errorf("import of two arrays: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	session := func(dir string) (string, []string, [][]byte) {
		t.Helper()
		db := testkit.OpenDB(t, sessionFiles(t, filepath.Join(work, dir))[0])
		var facts string
		testkit.QueryRow(t, db, `SELECT agent || ' ' || agent_session_id || ' ' || model || ' ' || result_type || '/' || result_subtype || ' ' ||
			total_messages || ' messages, ' || total_tool_calls || ' calls, ' || output_tokens || ' out, $' || total_cost_usd || ', dropped ' || lines_dropped FROM sessions`, &facts)
		return facts, toolCallLines(t, db), testkit.StoredLines(t, db)
	}
	wantFacts, wantCalls, wantLines := session("stream")
	if !strings.HasPrefix(wantFacts, "claude-code 5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11 claude-sonnet-4-5-20250929 result/success 18 messages, 7 calls") {
		t.Fatalf("the stream's session: %s", wantFacts)
	}
	for _, dir := range []string{"array", "imported"} {
		facts, calls, stored := session(dir)
		if facts != wantFacts {
			t.Errorf("%s: %s\nwant %s", dir, facts, wantFacts)
		}
		// Durations aside: tee's come from when the lines arrived, and an
		// import's from the lines' own times, which these do not have.
		noDuration := func(calls []string) []string {
			out := make([]string, len(calls))
			for i, c := range calls {
				f := strings.SplitN(c, " ", 4)
				out[i] = f[0] + " " + f[1] + " " + f[3]
			}
			return out
		}
		if !slices.Equal(noDuration(calls), noDuration(wantCalls)) {
			t.Errorf("%s: tool calls\n%s\nwant\n%s", dir, strings.Join(calls, "\n"), strings.Join(wantCalls, "\n"))
		}
		if !slices.EqualFunc(stored, wantLines, bytes.Equal) {
			t.Errorf("%s: %d stored lines, not the stream's %d", dir, len(stored), len(wantLines))
		}
	}
}

// Gemini CLI 0.58 and later append to a chat as it goes, as JSONL: each
// message is written again in full each time its tool calls or tokens
// change, $set lines change the metadata or put the messages anew, and
// $rewindTo takes messages out of the conversation. Every line is stored;
// each message counts once, as its last writing says: a call finished in a
// later writing (or in a $set's messages) is finished, tokens are not
// counted twice, and a rewind takes back neither tokens nor calls. The
// fixture follows the form as public parsers of it describe it (Gemini CLI
// 0.61's chatRecordingService); no real file was at hand.
func TestImportGeminiChatJSONL(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", mustAbs(t, "testdata/import/gemini/session-2026-10-02T10-00-7c1e9a4b.jsonl"))
	if want := "Imported 1 file (0 updated), 0 unchanged, 0 failed: 1 session, 12 messages, 2 tool calls into s\n"; res.code != 0 || string(res.stdout) != want {
		t.Fatalf("exit %d: %q; stderr %s", res.code, res.stdout, res.stderr)
	}
	db := testkit.OpenDB(t, sessionFiles(t, filepath.Join(work, "s"))[0])
	var session, types string
	testkit.QueryRow(t, db, `SELECT agent || ' ' || agent_session_id || ' ' || model || ' ' || source_format || '; tokens ' ||
		input_tokens || '+' || cache_read_input_tokens || '/' || output_tokens FROM sessions`, &session)
	testkit.QueryRow(t, db, `SELECT group_concat(type, ' ') FROM (SELECT type FROM messages ORDER BY sequence)`, &types)
	// g1 4000+0/30+20, g2 400+3900/40, g3 (rewound, spent) 4400+0/10,
	// g4 (300+5 of the tool prompt)+4200/50+10; each once, though g1 and
	// g4 are written three times and twice.
	if want := "gemini-cli 7c1e9a4b-2d3f-4e5a-8b6c-9d0e1f2a3b4c gemini-2.5-pro gemini-chat; tokens 9105+8100/160"; session != want {
		t.Errorf("session %q\nwant %q", session, want)
	}
	if want := "session user gemini gemini $set gemini user gemini $rewindTo user gemini $set"; types != want {
		t.Errorf("types %q\nwant %q", types, want)
	}
	want := []string{
		// Executing when first written, finished in the next writing.
		`run_shell_command error 3000 {"command":"make"} Exit code 2`,
		// Awaiting approval, then cancelled in the messages a $set put.
		`replace error 25000 {"file_path":"/home/dev/shop/cart/total.go","old_string":"\treturn sum\n\treturn 0","new_string":"\treturn sum"} [Operation Cancelled] Reason: User did not allow tool call`,
	}
	if calls := toolCallLines(t, db); !slices.Equal(calls, want) {
		t.Errorf("tool calls:\n%s\nwant\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
}

// `gemini -p … --output-format json` prints one indented object for the
// run: its answer, and its tokens by model. Imported, it is a gemini-cli
// session with that result and those tokens (the model that used the most
// names it); through tee on one line, the same. It holds counts of tool
// calls, not calls: there are none to store. The fixture is shaped like
// the output of Gemini CLI 0.3x.
func TestGeminiJSONOutput(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	res := runConvlog(t, work, nil, nil, "import", "--dir", "imported", mustAbs(t, "testdata/import/gemini/run-output.json"))
	if want := "Imported 1 file (0 updated), 0 unchanged, 0 failed: 1 session, 1 messages, 0 tool calls into imported\n"; res.code != 0 || !bytes.HasPrefix(res.stdout, []byte(want)) {
		t.Fatalf("import: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	doc, err := os.ReadFile("testdata/import/gemini/run-output.json")
	if err != nil {
		t.Fatal(err)
	}
	var line bytes.Buffer
	json.Compact(&line, doc)
	line.WriteByte('\n')
	res = runConvlog(t, work, line.Bytes(), nil, "tee", "-q", "--dir", "teed")
	if res.code != 0 || !bytes.Equal(res.stdout, line.Bytes()) || len(res.stderr) != 0 {
		t.Fatalf("tee: exit %d, stdout the input: %v; stderr %s", res.code, bytes.Equal(res.stdout, line.Bytes()), res.stderr)
	}
	// pro: 61000-42000+150 / 1900+600 / 42000; flash-lite: 1800 / 40.
	const want = "gemini-cli 0ec9a2e6-d594-4a6c-8aa2-ee3ca2b325dc gemini-2.5-pro gemini-json result/success 0; tokens 20950+42000/2540"
	for _, dir := range []string{"imported", "teed"} {
		db := testkit.OpenDB(t, sessionFiles(t, filepath.Join(work, dir))[0])
		var got string
		testkit.QueryRow(t, db, `SELECT agent || ' ' || agent_session_id || ' ' || model || ' ' || source_format || ' ' || result_type || '/' || result_subtype || ' ' || is_error ||
			'; tokens ' || input_tokens || '+' || cache_read_input_tokens || '/' || output_tokens FROM sessions`, &got)
		if got != want {
			t.Errorf("%s: %s\nwant %s", dir, got, want)
		}
	}
	res = runConvlog(t, work, nil, nil, "query", "--dir", "imported", "--markdown", "last")
	if res.code != 0 || !bytes.Contains(res.stdout, []byte("rounds half to even, and the test passes")) {
		t.Errorf("query --markdown: exit %d: %s%s", res.code, res.stdout, res.stderr)
	}
}
