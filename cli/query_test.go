package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/stream"
)

func init() {
	// -update rewrites the golden files. Other test files of this package
	// may define the same flag; one definition serves all.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updatingGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// queryGolden compares got with testdata/<name>, or rewrites it with -update.
func queryGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updatingGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// The fixed sessions of the golden tests.
const (
	goldenFull       = "7f3e1c2a-58b1-4d4e-9a51-3c0d2b6f4e10"
	goldenIncomplete = "7f3e1c2a-58b1-4d4e-9a51-3c0d2b6f4e11"
	goldenNoResult   = "0a9d4c11-2b3e-4f50-8a61-7b8c9d0e1f20"
	goldenOld        = "5e5e5e5e-0000-4000-8000-000000000001"
	goldenStart      = 1766399400000 // 2025-12-22T10:30:00.000Z, the seed's example
)

// fixtureLines reads a stream-json fixture under testdata/query.
func fixtureLines(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "query", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

// extraLines end the full session: lines no agent should send but broken
// producers do, which output must survive.
var extraLines = [][]byte{
	[]byte("{\"type\":\"system\",\"subtype\":\"hook_response\",\"hook_name\":\"Stop:\\u001b[31mred\\u001b[0m\",\"exit_code\":0,\"outcome\":\"success\",\"timestamp\":\"2025-12-22T10:35:41.700Z\"}"),
	[]byte("{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"caf\xe9 \xff\"},\"timestamp\":\"2025-12-22T10:35:41.800Z\"}"),
	[]byte("wrapper: done \xe9\r"),
}

// writeGoldenSession writes lines as a session through the real Writer,
// timing each line by its own "timestamp", else by the line before it, as
// if read live at those times; ended 0 leaves it as a killed logger does.
func writeGoldenSession(t testing.TB, dir string, meta record.Meta, lines [][]byte, ended int64) {
	t.Helper()
	ctx := context.Background()
	if meta.Mode == "" {
		meta.Mode = "auto"
	}
	meta.PromptLength, meta.Source, meta.SourceFormat = -1, "tee", "stream-json"
	w, err := record.Create(ctx, dir, testkit.Schema(t), meta)
	if err != nil {
		t.Fatal(err)
	}
	p := stream.NewProcessor(w)
	now := meta.StartedAt
	for _, l := range lines {
		var ts struct {
			Timestamp string `json:"timestamp"`
		}
		if json.Unmarshal(l, &ts) == nil {
			if tm, err := time.Parse(time.RFC3339Nano, ts.Timestamp); err == nil {
				now = tm.UnixMilli()
			}
		}
		p.Line(l, now)
	}
	if ended == 0 {
		w.Commit(p.Totals())
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := w.Finish(p.Totals(), ended); err != nil {
		t.Fatal(err)
	}
}

// goldenDir is a folder of the fixed sessions.
func goldenDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sessions")
	lines := fixtureLines(t, "session.jsonl")
	full := append(append([][]byte(nil), lines...), extraLines...)
	writeGoldenSession(t, dir, record.Meta{
		ID: goldenFull, StartedAt: goldenStart, CWD: "/home/user/elsewhere",
		GitHubRunID: "1234567890", GitHubRepo: "owner/repo", GitHubRef: "refs/heads/main",
	}, full, goldenStart+342000)
	// Killed after its fifth line: no end, no result.
	writeGoldenSession(t, dir, record.Meta{ID: goldenIncomplete, StartedAt: goldenStart + 3_600_000}, lines[:8], 0)
	// Ended without a result line, with the model from the flag.
	writeGoldenSession(t, dir, record.Meta{ID: goldenNoResult, StartedAt: goldenStart - 86_400_000, Model: "claude-sonnet-4", Mode: "interactive"},
		fixtureLines(t, "noresult.jsonl"), goldenStart-86_400_000+1500)
	writeSeedFile(t, filepath.Join(dir, goldenOld+".db"))
	return dir
}

// writeSeedFile makes a session file as the seed's own scripts wrote it:
// the seed's columns only, no user_version.
func writeSeedFile(t testing.TB, path string) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("testdata", "query", "seed-schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(script)); err != nil {
		t.Fatal(err)
	}
}

// queryRun runs the CLI in this process, the way main does.
func queryRun(t *testing.T, getenv map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Ctx: t.Context(), Schema: testkit.Schema(t), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return getenv[k] }}
	code = Run(args, env)
	return out.String(), errb.String(), code
}

func TestQueryGolden(t *testing.T) {
	dir := goldenDir(t)
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"query/summary.golden", []string{goldenFull}},
		{"query/all.golden", []string{"7f3e1c2a-58b1-4d4e-9a51-3c0d2b6f4e10", "--messages", "--tools"}},
		{"query/messages.golden", []string{"7f3e1c2a-58b1-4d4e-9a51-3c0d2b6f4e10", "--messages"}},
		{"query/session.json.golden", []string{goldenFull, "--json"}},
		{"query/all.json.golden", []string{goldenFull, "--json", "--messages", "--tools"}},
		{"query/tools.json.golden", []string{goldenFull, "--tools", "--json"}},
		{"query/incomplete.golden", []string{"7f3e1c2a-58b1-4d4e-9a51-3c0d2b6f4e11", "--tools"}},
		{"query/incomplete.json.golden", []string{goldenIncomplete, "--json", "--tools"}},
		{"query/noresult.golden", []string{"0a9d", "--messages", "--tools"}},
		{"query/oldschema.golden", []string{"5e5e", "--messages", "--tools"}},
		{"query/oldschema.json.golden", []string{"5e5e", "--json", "--messages", "--tools"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			stdout, stderr, code := queryRun(t, nil, append([]string{"query", "--dir", dir}, c.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if strings.HasSuffix(c.golden, ".json.golden") && !json.Valid([]byte(stdout)) {
				t.Fatalf("not valid JSON:\n%s", stdout)
			}
			if strings.Contains(stdout, "\x1b") {
				t.Error("escape sequence in output that is not a terminal")
			}
			queryGolden(t, c.golden, []byte(stdout))
		})
	}
}

func TestQueryLast(t *testing.T) {
	dir := goldenDir(t)
	stdout, _, code := queryRun(t, nil, "query", "last", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "ID: "+goldenIncomplete+"\n") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
}

// TestQueryJSONShape pins what scripts rely on, beyond the goldens' bytes.
func TestQueryJSONShape(t *testing.T) {
	dir := goldenDir(t)
	stdout, _, _ := queryRun(t, nil, "query", goldenFull, "--dir", dir, "--json", "--messages", "--tools")
	var doc struct {
		Session   map[string]any   `json:"session"`
		Messages  []map[string]any `json:"messages"`
		ToolCalls []map[string]any `json:"tool_calls"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Messages) != len(fixtureLines(t, "session.jsonl"))+len(extraLines) || len(doc.ToolCalls) != 4 {
		t.Fatalf("%d messages, %d tool calls", len(doc.Messages), len(doc.ToolCalls))
	}
	if doc.Session["started"] != "2025-12-22T10:30:00.000Z" || doc.Session["duration_ms"] != 342000.0 || doc.Session["incomplete"] != false {
		t.Errorf("session: %v", doc.Session)
	}
	init := doc.Messages[3]["raw_message"].(map[string]any)
	if init["type"] != "system" || init["model"] != "claude-opus-4" {
		t.Errorf("raw_message of init not parsed: %v", init)
	}
	if s, ok := doc.Messages[0]["raw_message"].(string); !ok || !strings.HasPrefix(s, ">>> ") {
		t.Errorf("non-JSON line: %v", doc.Messages[0]["raw_message"])
	}
	last := doc.Messages[len(doc.Messages)-1]
	if last["raw_utf8"] != false || last["raw_message"] != "wrapper: done \uFFFD\r" {
		t.Errorf("non-UTF-8 line: %v", last)
	}
	if in := doc.ToolCalls[0]["tool_input"].(map[string]any); in["command"] != "go test ./parser/ 2>&1 | tail -20" {
		t.Errorf("tool_input not parsed: %v", in)
	}

	// Without flags, only the session.
	stdout, _, _ = queryRun(t, nil, "query", goldenFull, "--dir", dir, "--json")
	var only map[string]json.RawMessage
	json.Unmarshal([]byte(stdout), &only)
	if len(only) != 1 || only["session"] == nil {
		t.Errorf("keys without flags: %v", only)
	}
}

func TestQueryBadInput(t *testing.T) {
	dir := goldenDir(t)
	// A second session sharing a prefix with the full one.
	writeGoldenSession(t, dir, record.Meta{ID: "7f3e1c2a-0000", StartedAt: 1}, nil, 2)
	// A session outside the folder, which a path would reach.
	outside := filepath.Dir(dir)
	writeGoldenSession(t, outside, record.Meta{ID: "secret", StartedAt: 1}, nil, 2)
	os.WriteFile(filepath.Join(dir, "junk.db"), []byte("not a database"), 0o600)

	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"ambiguous prefix", []string{"7f3e"}, 1, []string{`convlog: session prefix "7f3e" is ambiguous`, "\n  7f3e1c2a-0000  ", "\n  " + goldenFull + "  ", "\n  " + goldenIncomplete + "  "}},
		{"unknown id", []string{"ffff"}, 1, []string{`convlog: no session "ffff" in ` + dir}},
		{"missing folder", []string{"ffff", "--dir", filepath.Join(dir, "nope")}, 1, []string{"does not exist"}},
		{"not a session file", []string{"junk"}, 1, []string{"junk.db: not a convlog database"}},
		{"parent path", []string{"../secret"}, 2, []string{`"../secret": not a session id`, "Usage: convlog query"}},
		{"absolute path", []string{"/etc/passwd"}, 2, []string{`"/etc/passwd": not a session id`}},
		{"subfolder", []string{"a/b"}, 2, []string{`"a/b": not a session id`}},
		{"dot dot", []string{".."}, 2, []string{`"..": not a session id`}},
		{"file name", []string{"secret.db"}, 2, []string{`"secret.db": not a session id`}},
		{"empty", []string{""}, 2, []string{`"": not a session id`}},
		{"no session", []string{}, 2, []string{"expected \"<session>\"", "Usage: convlog query"}},
		{"unknown flag", []string{"last", "--bogus"}, 2, []string{"unknown flag --bogus"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"query", "--dir", dir}, c.args...)
			stdout, stderr, code := queryRun(t, nil, args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, c.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
			for _, want := range c.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "secret") && !strings.Contains(stderr, `"../secret"`) && !strings.Contains(stderr, `"secret.db"`) {
				t.Errorf("stderr mentions the outside session: %s", stderr)
			}
		})
	}
}

func TestQueryLastWithoutSessions(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := queryRun(t, nil, "query", "last", "--dir", dir)
	if code != 1 || !strings.Contains(stderr, "no readable session in "+dir) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// liveTee is `convlog tee` running with a stdin the test writes to.
type liveTee struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	path   string
	stderr bytes.Buffer
}

func startLiveTee(t *testing.T, dir, id string) *liveTee {
	t.Helper()
	cmd := exec.Command(testkit.Bin, "tee", "--dir", dir, "--session-id", id)
	cmd.Env = testkit.CleanEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	lt := &liveTee{cmd: cmd, stdin: stdin, path: filepath.Join(dir, id+".db")}
	cmd.Stdout, cmd.Stderr = io.Discard, &lt.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		err := cmd.Wait()
		if t.Failed() {
			t.Logf("tee (%v, %v) stderr:\n%s", err, cmd.ProcessState, lt.stderr.String())
		}
	})
	return lt
}

// pollSession reads the session until cond holds; the logger commits
// within ~100 ms, so the deadline is generous and only bounds a failure.
func pollSession(t *testing.T, path string, cond func(*record.Session) bool) *record.Session {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := record.ReadSession(t.Context(), path)
		if err == nil && cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition not reached (last read: %+v, %v)", path, s, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func messagesAtLeast(n int64) func(*record.Session) bool {
	return func(s *record.Session) bool { return s.TotalMessages != nil && *s.TotalMessages >= n }
}

func TestQueryWhileTeeWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	lines := fixtureLines(t, "session.jsonl")
	tee := startLiveTee(t, dir, "live")
	half := 9
	for _, l := range lines[:half] {
		tee.stdin.Write(append(l, '\n'))
	}
	pollSession(t, tee.path, messagesAtLeast(int64(half)))

	res := runConvlog(t, t.TempDir(), nil, nil, "query", "live", "--dir", dir, "--tools")
	out := string(res.stdout)
	for _, want := range []string{
		"Ended: (incomplete: still running, or the logger was killed)\n",
		"Duration: (incomplete)\n",
		"Result: none yet (no result line so far)\n",
		"Messages: 9\n",
		"#0  Bash  error  ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("while running, output lacks %q:\n%s", want, out)
		}
	}
	res = runConvlog(t, t.TempDir(), nil, nil, "query", "last", "--dir", dir, "--json", "--messages")
	var doc struct {
		Session  map[string]any `json:"session"`
		Messages []any          `json:"messages"`
	}
	if err := json.Unmarshal(res.stdout, &doc); err != nil || len(doc.Messages) != half || doc.Session["incomplete"] != true {
		t.Errorf("JSON while running (%v): %d messages, %v", err, len(doc.Messages), doc.Session)
	}
	res = runConvlog(t, t.TempDir(), nil, nil, "list", "--dir", dir)
	if !strings.Contains(string(res.stdout), "incomplete") {
		t.Errorf("list while running:\n%s", res.stdout)
	}

	for _, l := range lines[half:] {
		tee.stdin.Write(append(l, '\n'))
	}
	tee.stdin.Close()
	if err := tee.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	res = runConvlog(t, t.TempDir(), nil, nil, "query", "live", "--dir", dir)
	out = string(res.stdout)
	if strings.Contains(out, "incomplete") || !strings.Contains(out, "Result: result (success)\n") ||
		!strings.Contains(out, "Messages: 17\n") || !regexp.MustCompile(`\nEnded: 20\d\d-`).MatchString(out) {
		t.Errorf("after EOF:\n%s", out)
	}
}

func TestQueryKilledLogger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	lines := fixtureLines(t, "session.jsonl")
	tee := startLiveTee(t, dir, "killed")
	for _, l := range lines[:12] {
		tee.stdin.Write(append(l, '\n'))
	}
	pollSession(t, tee.path, messagesAtLeast(12))
	tee.cmd.Process.Kill()
	tee.cmd.Wait()
	// Its write-ahead log is left behind; a reader must still see the
	// committed lines, also after the shared-memory index is gone.
	for _, remove := range []bool{false, true} {
		if remove {
			os.Remove(tee.path + "-shm")
		}
		res := runConvlog(t, t.TempDir(), nil, nil, "query", "killed", "--dir", dir, "--tools")
		out := string(res.stdout)
		if res.code != 0 || !strings.Contains(out, "Ended: (incomplete: still running, or the logger was killed)\n") ||
			!strings.Contains(out, "Messages: 12\n") || !strings.Contains(out, "#2  Edit  pending") {
			t.Errorf("exit %d, stderr %s\n%s", res.code, res.stderr, out)
		}
	}
}

// TestQueryPipeline runs the seed's own example: tee a session, then
// `convlog query last --json --messages --tools | jq '.messages | length'`,
// with jq's part done here.
func TestQueryPipeline(t *testing.T) {
	work := t.TempDir()
	input := bytes.Join(fixtureLines(t, "session.jsonl"), []byte("\n"))
	res := runConvlog(t, work, input, nil, "tee", "--session-id", "piped")
	if res.code != 0 || !bytes.Equal(res.stdout, input) {
		t.Fatalf("tee: exit %d, stderr %s", res.code, res.stderr)
	}
	// The default folder, from the working directory.
	res = runConvlog(t, work, nil, nil, "query", "last", "--json", "--messages", "--tools")
	var doc struct {
		Messages []any `json:"messages"`
	}
	if err := json.Unmarshal(res.stdout, &doc); err != nil || len(doc.Messages) != 17 {
		t.Fatalf("exit %d, %v, %d messages; stderr %s", res.code, err, len(doc.Messages), res.stderr)
	}
	// CONVLOG_DIR moves the folder.
	os.Rename(filepath.Join(work, ".turso", "sessions"), filepath.Join(work, "moved"))
	res = runConvlog(t, work, nil, []string{"CONVLOG_DIR=moved"}, "query", "pipe")
	if res.code != 0 || !strings.Contains(string(res.stdout), "ID: piped\n") {
		t.Fatalf("CONVLOG_DIR: exit %d, %s", res.code, res.stderr)
	}

	// The plain output of a real tee run matches the golden file once the
	// times, which vary per run, are masked.
	res = runConvlog(t, work, nil, []string{"CONVLOG_DIR=moved"}, "query", "piped", "--messages", "--tools")
	masked := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`).ReplaceAll(res.stdout, []byte("<time>"))
	masked = regexp.MustCompile(`(?m)^Duration: .*$`).ReplaceAll(masked, []byte("Duration: <duration>"))
	masked = regexp.MustCompile(`  \d+(\.\d+)?(ms|s)\b`).ReplaceAll(masked, []byte("  <duration>"))
	masked = regexp.MustCompile(`(?m)^CWD: .*$`).ReplaceAll(masked, []byte("CWD: <cwd>"))
	queryGolden(t, "query/tee.golden", masked)
}
