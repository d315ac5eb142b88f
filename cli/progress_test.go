package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"

	"github.com/convlog/convlog/internal/testkit"
)

// TestTeeProgress: --progress (or CONVLOG_PROGRESS) tells the session on
// stderr, in plain text in a pipe, while stdout stays the input.
func TestTeeProgress(t *testing.T) {
	in, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	res, path := teeRun(t, in, nil, "--progress", "--no-sync")
	if res.code != 0 || !bytes.Equal(res.stdout, in) {
		t.Fatalf("exit %d, pass-through equal %v: %s", res.code, bytes.Equal(res.stdout, in), res.stderr)
	}
	stderr := string(res.stderr)
	rel := filepath.Join("s", filepath.Base(path))
	inOrder(t, stderr,
		"Session ID: ",
		"● claude-code  model claude-sonnet-4-5-20250929  cwd /home/dev/shop  session 5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11\n",
		"│ I'll run the tests to see what fails — then fix it. 🔧\n",
		"▸ Bash  go test ./...\n", "▸ Read  cart/cart.go\n", "✗ Bash  go test ./...  ", "--- FAIL: TestTotal (0.00s)\n",
		"▸ Task  Find other float rounding\n", "  ▸ Grep  float64\\(.*Price\n", "  │ Two places", "✓ Task  Find other float rounding  ",
		"✗ Edit  api/discount.go  ", "  String to replace not found in file.\n",
		"│ Fixed: `Total` no longer scales prices by 0.999",
		"■ success  9 turns  ", "  $0.0874  7 tool calls (2 failed)\n",
		"  tokens 26 in, 581 out, 86.7k cache read, 7.6k cache write\n",
		"  session file "+rel+"\n",
	)
	if strings.Contains(stderr, "\x1b[") || strings.Contains(stderr, "::group::") {
		t.Errorf("colour or workflow commands in a pipe outside GitHub Actions:\n%s", stderr)
	}

	for _, c := range []struct {
		env  string
		args []string
		want bool
	}{
		{"CONVLOG_PROGRESS=1", nil, true},
		{"CONVLOG_PROGRESS=full", nil, true},
		{"CONVLOG_PROGRESS=0", nil, false},
		{"CONVLOG_PROGRESS=1", []string{"--progress=false"}, false},
		{"", nil, false},
	} {
		res, _ := teeRun(t, in, []string{c.env}, append([]string{"--no-sync"}, c.args...)...)
		if got := bytes.Contains(res.stderr, []byte("▸ Bash  go test ./...")); got != c.want || res.code != 0 {
			t.Errorf("%s %v: exit %d, narrated %v: %s", c.env, c.args, res.code, got, res.stderr)
		}
	}

	// --progress=full has the whole text; COLUMNS cuts the rest.
	res, _ = teeRun(t, in, []string{"COLUMNS=40"}, "--progress=full", "--no-sync")
	if !strings.Contains(string(res.stderr), "│ Fixed: `Total` no longer scales prices by 0.999, and the cart tests pass. The discount helper has no such line (the edit there did not apply), so it is unchanged.\n") {
		t.Errorf("--progress=full cut the text:\n%s", res.stderr)
	}
	res, _ = teeRun(t, in, []string{"COLUMNS=40"}, "--progress", "--no-sync")
	for _, l := range strings.Split(string(res.stderr), "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "│") || strings.HasPrefix(strings.TrimLeft(l, " "), "▸") {
			if w := runewidth.StringWidth(l); w > 40 {
				t.Errorf("a line of %d columns at COLUMNS=40: %q", w, l)
			}
		}
	}

	res, _ = teeRun(t, in, []string{"CONVLOG_PROGRESS=2"}, "--no-sync")
	if res.code != 2 || !bytes.Equal(res.stdout, in) || !bytes.Contains(res.stderr, []byte(`unknown progress "2"`)) {
		t.Errorf("a bad CONVLOG_PROGRESS: exit %d, pass-through equal %v: %s", res.code, bytes.Equal(res.stdout, in), res.stderr)
	}
}

// TestTeeProgressGitHub: in GitHub Actions, turns are groups and failed
// calls warnings.
func TestTeeProgressGitHub(t *testing.T) {
	in, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := teeRun(t, in, []string{"GITHUB_ACTIONS=true"}, "--progress", "--no-sync", "--no-summary")
	stderr := string(res.stderr)
	inOrder(t, stderr,
		"● claude-code", "::group::Turn 1: “I'll run the tests to see what fails — then fix it. 🔧”\n",
		"::warning title=Bash failed::✗ Bash  go test ./...  ", "::endgroup::\n",
		"::group::Turn 2: ▸ Task  Find other float rounding\n", "::endgroup::\n",
		"::group::Turn 3: ▸ Edit  cart/cart.go\n", "::warning title=Edit failed::✗ Edit  api/discount.go  ", "::endgroup::\n",
		"::group::Turn 5: “Fixed:", "::endgroup::\n", "■ success",
	)
	if strings.Count(stderr, "::group::") != strings.Count(stderr, "::endgroup::") {
		t.Errorf("groups not balanced:\n%s", stderr)
	}
}

// TestTeeProgressRedacts: a secret in a tool input, a text or an error is
// on stderr as it is in the session file: redacted.
func TestTeeProgressRedacts(t *testing.T) {
	in := secretStream()
	for _, mode := range []string{"--progress", "--progress=full"} {
		res, _ := teeRun(t, in, []string{"TURSO_AUTH_TOKEN=" + plantedSyncTok, "GITHUB_ACTIONS=true"}, mode, "--no-sync",
			"--redact-pattern", `corp-internal-[0-9a-f]+`)
		if res.code != 0 || !bytes.Equal(res.stdout, in) {
			t.Fatalf("exit %d, pass-through equal %v: %s", res.code, bytes.Equal(res.stdout, in), res.stderr)
		}
		for _, s := range allSecrets {
			if bytes.Contains(res.stderr, []byte(s)) {
				t.Errorf("%s: stderr holds %q", mode, s[:12])
			}
		}
		inOrder(t, string(res.stderr), "│ I will use the key [REDACTED:anthropic]", "▸ Bash  GITHUB_TOKEN=[REDACTED:github] gh pr list",
			"::warning title=Read failed::✗ Read  .env  ", "denied: [REDACTED:custom] and [REDACTED:custom]")
	}
}

// TestTeeProgressStderrNeverRead: a stderr that nobody reads does not
// hold up the pass-through or the logging, and tee still ends, with the
// end of the session and the count of dropped lines in the pipe.
func TestTeeProgressStderrNeverRead(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"type":"system","subtype":"init","cwd":"/w","session_id":"s1","model":"claude-x","tools":["Bash"]}` + "\n")
	const calls = 3000
	for i := range calls {
		fmt.Fprintf(&b, `{"type":"assistant","message":{"id":"m%d","content":[{"type":"text","text":"Step %d: listing the folder once more, to see what changed since the last time."},{"type":"tool_use","id":"t%d","name":"Bash","input":{"command":"ls -la /w/dir%d"}}]}}`+"\n", i, i, i, i)
		fmt.Fprintf(&b, `{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t%d","content":"total 0"}]}}`+"\n", i)
	}
	b.WriteString(`{"type":"result","subtype":"success","is_error":false,"num_turns":3000,"result":"done","total_cost_usd":1.5}` + "\n")
	in := b.Bytes()

	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(testkit.Bin, "tee", "--progress", "--dir", dir, "--session-id", "quiet-pipe")
	cmd.Env = testkit.CleanEnv()
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("tee: %v", err)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("tee did not end with a stderr that nobody reads")
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("stdout differs from the input (%d bytes of %d)", out.Len(), len(in))
	}
	db := testkit.OpenDB(t, filepath.Join(dir, "quiet-pipe.db"))
	stored := testkit.StoredLines(t, db)
	want := testkit.SplitLines(in)
	if len(stored) != len(want) {
		t.Fatalf("%d lines stored of %d", len(stored), len(want))
	}
	for i := range stored {
		if !bytes.Equal(stored[i], want[i]) {
			t.Fatalf("line %d stored as %q", i, stored[i])
		}
	}
	var done, ended int
	testkit.QueryRow(t, db, `SELECT count(*) FROM tool_calls WHERE status = 'success'`, &done)
	testkit.QueryRow(t, db, `SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL`, &ended)
	if done != calls || ended != 1 {
		t.Fatalf("%d of %d calls complete, session ended: %d", done, calls, ended)
	}

	// Only now is stderr read: the narration stopped short, and the end
	// and tee's own last words are in it.
	var errOut bytes.Buffer
	errOut.ReadFrom(r)
	stderr := errOut.String()
	inOrder(t, stderr, "● claude-code", "▸ Bash  ls -la /w/dir0\n", "■ success  3000 turns", "  session file ",
		" progress lines dropped: stderr did not keep up\n", "Warning: Turso cloud credentials not found.")
	if strings.Contains(stderr, "dir2999\n") {
		t.Errorf("the last call was narrated into a pipe that was full long before")
	}
}

// inOrder checks that s holds each of parts, in this order.
func inOrder(t *testing.T, s string, parts ...string) {
	t.Helper()
	rest := s
	for _, p := range parts {
		i := strings.Index(rest, p)
		if i < 0 {
			t.Fatalf("missing %q (in order) in:\n%s", p, s)
		}
		rest = rest[i+len(p):]
	}
}
