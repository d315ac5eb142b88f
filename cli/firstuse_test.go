package cli

import (
	"bytes"
	"database/sql"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// A pattern that holds a comma arrives whole (kong splits a slice flag's
// value on commas by default), in tee and in import; one that does not
// compile, or that matches the empty string, is a usage error naming it.
func TestRedactPatternWithComma(t *testing.T) {
	secret := "tok_" + "a1b2c3d4e5"
	in := []byte(`{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"the key is ` + secret + `"}]}}` + "\n")
	pattern := `tok_[a-z0-9]{8,12}`
	res, path := teeRun(t, in, nil, "--no-sync", "--redact-pattern", pattern)
	if res.code != 0 || !bytes.Equal(res.stdout, in) {
		t.Fatalf("tee: exit %d: %s", res.code, res.stderr)
	}
	file, _ := os.ReadFile(path)
	if bytes.Contains(file, []byte(secret)) || !bytes.Contains(file, []byte("[REDACTED:custom]")) {
		t.Errorf("tee stored the secret, or no marker")
	}

	work := t.TempDir()
	src := filepath.Join(work, "capture.jsonl")
	os.WriteFile(src, in, 0o600)
	if res := runConvlog(t, work, nil, nil, "import", "--dir", "s", "--redact-pattern", pattern, src); res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(work, "s", "*.db"))
	if len(files) != 1 {
		t.Fatalf("import made %v", files)
	}
	file, _ = os.ReadFile(files[0])
	if bytes.Contains(file, []byte(secret)) {
		t.Errorf("import stored the secret")
	}

	for _, bad := range []string{`tok_(`, `x*`} {
		res := runConvlog(t, work, nil, nil, "import", "--dir", "s", "--redact-pattern", bad, src)
		if res.code != 2 || !strings.Contains(string(res.stderr), "--redact-pattern "+`"`+bad+`"`) {
			t.Errorf("import --redact-pattern %s: exit %d: %s", bad, res.code, res.stderr)
		}
	}
}

// tee passes its input through whatever its flags say: a usage error is
// printed at once, the input passes unlogged, and the exit status is 2.
func TestTeeUsageErrorPassesThrough(t *testing.T) {
	in := []byte("{\"type\":\"system\",\"subtype\":\"init\"}\nplain\n\x00\xff last line without a newline")
	for _, args := range [][]string{
		{"--session-id", "1234.1"},
		{"--mode", "foo"},
		{"--no-such-flag"},
		{"--redact-pattern", "tok_("},
	} {
		dir := t.TempDir()
		res := runConvlog(t, dir, in, nil, append([]string{"tee", "--dir", "s"}, args...)...)
		if !bytes.Equal(res.stdout, in) {
			t.Errorf("%v: the input came out as %q", args, res.stdout)
		}
		if res.code != 2 || !strings.HasPrefix(string(res.stderr), "convlog: ") || !strings.Contains(string(res.stderr), "passed through unlogged") {
			t.Errorf("%v: exit %d: %s", args, res.code, res.stderr)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "s", "*")); len(files) > 0 {
			t.Errorf("%v: logged anyway: %v", args, files)
		}
	}
}

// Plain text in (claude -p without --output-format stream-json --verbose):
// one warning that says what was expected; the pass-through and the exit
// status do not change, even with --strict. A banner before JSON lines, or
// JSON lines alone, get no warning.
func TestTeeWarnsOfPlainText(t *testing.T) {
	const warning = "the input is plain text, not an agent's JSON lines"
	sample, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   []byte
		warn bool
	}{
		{"an answer in plain text", []byte("The tests pass now.\nI changed two files.\n"), true},
		{"many lines of it", []byte(strings.Repeat("text\n", 50)), true},
		{"claude's own error", []byte("Error: When using --print, --output-format=stream-json requires --verbose\n"), true},
		{"a banner, then JSON", append([]byte("Now using node v20.1.0\n>>> \n"), sample...), false},
		{"JSON lines", sample, false},
		{"nothing", nil, false},
	}
	for _, c := range cases {
		res, _ := teeRun(t, c.in, nil, "--no-sync", "--strict", "-q")
		if res.code != 0 || !bytes.Equal(res.stdout, c.in) {
			t.Errorf("%s: exit %d, pass-through equal %v", c.name, res.code, bytes.Equal(res.stdout, c.in))
		}
		n := strings.Count(string(res.stderr), warning)
		if c.warn && (n != 1 || !strings.Contains(string(res.stderr), "--output-format stream-json --verbose")) || !c.warn && n != 0 {
			t.Errorf("%s: %d warnings:\n%s", c.name, n, res.stderr)
		}
	}
}

// The reader of stdout sees the end of the stream as soon as the input has
// been passed through, not after the session is finished and synced: here
// the sync goes to a server that accepts a connection and never answers.
func TestTeeClosesStdoutBeforeSync(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	accepted := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			accepted <- struct{}{}
		}
	}()
	in := agentStream(3)
	cmd := exec.Command(testkit.Bin, "tee", "--dir", t.TempDir())
	cmd.Env = append(testkit.CleanEnv(), creds("http://"+ln.Addr().String())...)
	cmd.Env = append(cmd.Env, "CONVLOG_SYNC_TIMEOUT=60s")
	cmd.Stdin = bytes.NewReader(in)
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() { cmd.Process.Kill(); <-exited }()
	stdout.(*os.File).SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(stdout)
	if err != nil || !bytes.Equal(got, in) {
		t.Fatalf("stdout before the sync ended: %v, equal %v; stderr: %s", err, bytes.Equal(got, in), stderr.String())
	}
	// tee is still syncing: the server has the connection and has not
	// answered.
	select {
	case <-accepted:
	case <-exited:
		t.Fatalf("tee exited before syncing: %s", stderr.String())
	}
	select {
	case <-exited:
		t.Fatalf("tee ended although the server never answered: %s", stderr.String())
	default:
	}
	ln.Close()
}

// SIGHUP (a closed terminal, a dropped ssh session) ends a session as
// SIGTERM does: the last lines drain, the session is finished, and the exit
// status says which signal it was.
func TestTeeHangUp(t *testing.T) {
	line := `{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"hi"}]}}` + "\n"
	cmd, stdin, stderr, path := startTee(t, t.TempDir())
	io.WriteString(stdin, line)
	testkit.WaitForMessages(t, path, 1)
	cmd.Process.Signal(syscall.SIGHUP)
	waitForLine(t, stderr, "convlog: hung up: finishing the session")
	io.WriteString(stdin, line)
	stdin.Close()
	if code := testkit.ExitCode(cmd.Wait()); code != 128+int(syscall.SIGHUP) {
		t.Fatalf("exit %d, want %d", code, 128+int(syscall.SIGHUP))
	}
	db := testkit.OpenDB(t, path)
	var ended sql.NullInt64
	var n int
	testkit.QueryRow(t, db, `SELECT ended_at, total_messages FROM sessions`, &ended, &n)
	if !ended.Valid || n != 2 {
		t.Fatalf("ended %v, messages %d; want an end and 2", ended, n)
	}
}

// `convlog help [command]` is --help; --version names the build, with the
// commit when the build had one; prune says which flag it misses.
func TestHelpVersionAndMissingFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		out  string // in stdout (help) or stderr (errors)
	}{
		{[]string{"help"}, 0, "Usage: convlog <command>"},
		{[]string{"help", "tee"}, 0, "Usage: convlog tee [flags]"},
		{[]string{"help", "prune"}, 0, "--older-than=AGE"},
		{[]string{"help", "nope"}, 2, "convlog: unexpected argument nope"},
		{[]string{"prune"}, 2, "missing flag --older-than"},
	} {
		res := runConvlog(t, dir, nil, nil, c.args...)
		got := string(res.stdout)
		if c.code != 0 {
			got = string(res.stderr)
		}
		if res.code != c.code || !strings.Contains(got, c.out) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s%s", c.args, res.code, c.code, c.out, res.stdout, res.stderr)
		}
	}
	res := runConvlog(t, dir, nil, nil, "--version")
	v := string(res.stdout)
	if res.code != 0 || !strings.HasPrefix(v, "convlog ") || strings.TrimSpace(v) == "dev" || strings.Contains(v, "unknown") {
		t.Fatalf("--version: exit %d %q", res.code, v)
	}
	// The commit is the one the build info holds (a build from a git
	// checkout has it; go does not record one in some other cases).
	info, err := exec.Command("go", "version", "-m", testkit.Bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(info), "\n") {
		if rev, ok := strings.CutPrefix(strings.TrimSpace(l), "build\tvcs.revision="); ok {
			if want := "commit " + rev[:12]; !strings.Contains(v, want) {
				t.Errorf("--version %q does not name %s", v, want)
			}
		}
	}
}
