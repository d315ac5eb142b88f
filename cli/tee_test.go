package cli

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

const cloudWarning = "Warning: Turso cloud credentials not found. Set TURSO_DATABASE_URL and TURSO_AUTH_TOKEN to enable cloud sync."

var sessionLine = regexp.MustCompile(`(?m)^Session ID: (\S+)$`)

// teeRun runs `convlog tee` on input in a fresh folder and returns the run
// and the session file's path.
func teeRun(t *testing.T, input []byte, env []string, args ...string) (result, string) {
	t.Helper()
	dir := t.TempDir()
	res := runConvlog(t, dir, input, env, append([]string{"tee", "--dir", "s"}, args...)...)
	m := sessionLine.FindSubmatch(res.stderr)
	if m == nil {
		return res, ""
	}
	return res, filepath.Join(dir, "s", string(m[1])+".db")
}

// corpusFiles are the project's real-shaped captures (testdata/corpus: the
// traps of FORMAT.md), the sample, and the real captures of the shared
// corpus beside the repository when it is there.
func corpusFiles(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	own := ownCorpus(t)
	shared, _ := filepath.Glob("../../shared/corpus/*.jsonl")
	for _, p := range append(own, shared...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	return files
}

// ownCorpus is the project's own captures; there must be some, so that a
// test over them never passes by reading nothing.
func ownCorpus(t *testing.T) []string {
	t.Helper()
	own, _ := filepath.Glob("testdata/corpus/*.jsonl")
	if len(own) < 5 {
		t.Fatalf("testdata/corpus holds %d captures; the tests need its five", len(own))
	}
	return append(own, "testdata/sample.jsonl")
}

func TestTeePassThroughAndStorage(t *testing.T) {
	garbage := make([]byte, 1<<20)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rnd.UintN(256))
	}
	inputs := map[string][]byte{
		"empty":           nil,
		"only newline":    []byte("\n"),
		"non-JSON banner": []byte("Now using node v20\n{\"type\":\"system\",\"subtype\":\"init\"}\n"),
		"CRLF":            []byte("{\"type\":\"a\"}\r\n{\"type\":\"b\"}\r\n"),
		"NUL bytes":       []byte("{\"type\":\"a\",\"x\":\"\x00\"}\n\x00\x00\n"),
		"invalid UTF-8":   []byte("{\"type\":\"user\",\"message\":{\"content\":\"caf\xe9\"}}\n\xff\xfe\n"),
		"no final LF":     []byte("{\"type\":\"a\"}\n{\"type\":\"b\"}"),
		"binary garbage":  garbage,
	}
	for name, b := range corpusFiles(t) {
		inputs[name] = b
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			res, path := teeRun(t, in, nil)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if !bytes.Equal(res.stdout, in) {
				t.Fatalf("stdout differs from stdin (%d vs %d bytes)", len(res.stdout), len(in))
			}
			db := testkit.OpenDB(t, path)
			got, want := testkit.StoredLines(t, db), testkit.SplitLines(in)
			if len(got) != len(want) {
				t.Fatalf("%d messages stored, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("message %d stored as %q, want %q", i, trunc(got[i]), trunc(want[i]))
				}
			}
			var total, dropped int
			var ended sql.NullInt64
			testkit.QueryRow(t, db, `SELECT total_messages, lines_dropped, ended_at FROM sessions`, &total, &dropped, &ended)
			if total != len(want) || dropped != 0 || !ended.Valid {
				t.Fatalf("session: total %d dropped %d ended %v", total, dropped, ended)
			}
		})
	}
}

func trunc(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

func TestTeeHugeLine(t *testing.T) {
	line := bytes.Repeat([]byte("x"), 64<<20)
	in := append(append([]byte(`{"type":"user","message":{"content":"`), line...), "\"}}\nafter\n"...)
	res, path := teeRun(t, in, nil)
	if res.code != 0 || !bytes.Equal(res.stdout, in) {
		t.Fatalf("exit %d, stdout equal %v", res.code, bytes.Equal(res.stdout, in))
	}
	db := testkit.OpenDB(t, path)
	var n, size int
	testkit.QueryRow(t, db, `SELECT count(*), max(length(raw_message)) FROM messages`, &n, &size)
	if n != 2 || size != len(testkit.SplitLines(in)[0]) {
		t.Fatalf("%d messages, longest %d", n, size)
	}
}

func TestTeeSessionFile(t *testing.T) {
	in, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"GITHUB_RUN_ID=42", "GITHUB_REPOSITORY=acme/shop", "GITHUB_REF=refs/heads/main"}
	res, path := teeRun(t, in, env, "--mode", "interactive", "--model", "flag-model")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	stderr := string(res.stderr)
	id := strings.TrimSuffix(filepath.Base(path), ".db")
	wantErr := fmt.Sprintf("Session ID: %s\nDatabase created at: s/%s.db\n%s\n", id, id, cloudWarning)
	if stderr != wantErr {
		t.Fatalf("stderr:\n%s\nwant:\n%s", stderr, wantErr)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("session id %q is not a random UUID (v4)", id)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v", st.Mode(), err)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %v, %v", st.Mode(), err)
	}
	for _, ext := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + ext); err == nil {
			t.Fatalf("%s left behind", path+ext)
		}
	}
	// sqlite3 itself, when it is installed, opens the file as a plain database.
	if sqlite3, err := exec.LookPath("sqlite3"); err == nil {
		out, err := exec.Command(sqlite3, path, "PRAGMA integrity_check; SELECT count(*) FROM messages;").CombinedOutput()
		if err != nil || string(out) != "ok\n18\n" {
			t.Fatalf("sqlite3: %s %v", out, err)
		}
	}

	db := testkit.OpenDB(t, path)
	var version int
	var journal string
	testkit.QueryRow(t, db, `PRAGMA user_version`, &version)
	testkit.QueryRow(t, db, `PRAGMA journal_mode`, &journal)
	if version != record.SchemaVersion || journal != "delete" {
		t.Fatalf("user_version %d, journal_mode %s", version, journal)
	}
	var (
		model, mode, cwd, runID, repo, ref, resType, resSub, agentID string
		started, ended, dur, msgs, tools                             int64
		promptLen                                                    sql.NullInt64
		cost                                                         float64
		in_, out, cc, cr                                             int64
	)
	testkit.QueryRow(t, db, `SELECT model, mode, cwd, github_run_id, github_repository, github_ref, result_type, result_subtype,
		agent_session_id, started_at, ended_at, duration_ms, total_messages, total_tool_calls, prompt_length,
		total_cost_usd, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens FROM sessions`,
		&model, &mode, &cwd, &runID, &repo, &ref, &resType, &resSub, &agentID, &started, &ended, &dur, &msgs, &tools,
		&promptLen, &cost, &in_, &out, &cc, &cr)
	if model != "claude-sonnet-4-5-20250929" || mode != "interactive" || cwd != "/home/dev/shop" ||
		runID != "42" || repo != "acme/shop" || ref != "refs/heads/main" || resType != "result" || resSub != "success" ||
		agentID != "5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11" || msgs != 18 || tools != 7 || dur != ended-started || dur < 0 ||
		cost != 0.0874215 || in_ != 26 || out != 581 || cc != 7608 || cr != 86692 || promptLen.Valid {
		t.Fatalf("session row: model %q mode %q cwd %q gh %q %q %q result %q/%q agent %q times %d-%d=%d msgs %d tools %d prompt %v cost %v tokens %d %d %d %d",
			model, mode, cwd, runID, repo, ref, resType, resSub, agentID, started, ended, dur, msgs, tools, promptLen, cost, in_, out, cc, cr)
	}

	type call struct{ name, status, parent, msg, resultMsg, output, errText string }
	rows, err := db.Query(`SELECT tool_name, status, coalesce(parent_tool_use_id,''), message_id, coalesce(result_message_id,''),
		coalesce(tool_output,''), coalesce(error,''), duration_ms IS NOT NULL AND duration_ms >= 0, sequence FROM tool_calls ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var calls []call
	for rows.Next() {
		var c call
		var hasDur bool
		var seq int
		if err := rows.Scan(&c.name, &c.status, &c.parent, &c.msg, &c.resultMsg, &c.output, &c.errText, &hasDur, &seq); err != nil {
			t.Fatal(err)
		}
		if !hasDur || seq != len(calls) {
			t.Fatalf("call %d (%s): no duration or wrong sequence %d", len(calls), c.name, seq)
		}
		calls = append(calls, c)
	}
	want := []struct{ name, status, parent string }{
		{"Bash", "error", ""}, {"Read", "success", ""}, {"Task", "success", ""},
		{"Grep", "success", "toolu_01Dk8Lp2WsYr5TnF7vQc3HbZ"}, {"Edit", "success", ""}, {"Edit", "error", ""}, {"Bash", "success", ""},
	}
	if len(calls) != len(want) {
		t.Fatalf("%d tool calls, want %d", len(calls), len(want))
	}
	for i, w := range want {
		c := calls[i]
		if c.name != w.name || c.status != w.status || c.parent != w.parent {
			t.Errorf("call %d: %+v, want %+v", i, c, w)
		}
		if (c.status == "error") != (c.errText != "") || (c.status == "error" && c.errText != c.output) {
			t.Errorf("call %d: error text %q for status %s", i, c.errText, c.status)
		}
	}
	if calls[0].msg != id+"-msg-3" || calls[0].resultMsg != id+"-msg-4" || !strings.Contains(calls[0].output, "Total() = 1099") {
		t.Errorf("first call: %+v", calls[0])
	}
	if !strings.HasPrefix(calls[1].output, "     1\tpackage cart\n") {
		t.Errorf("list content not joined as text: %q", calls[1].output)
	}
}

func TestTeeFlagsAndQuiet(t *testing.T) {
	in := []byte(`{"type":"user","message":{"content":"hi"}}` + "\n")
	res, _ := teeRun(t, in, []string{"TURSO_DATABASE_URL=http://127.0.0.1:1"}, "--quiet", "--session-id", "my-run_1", "--prompt-length", "1234")
	if res.code != 0 || len(res.stderr) != 0 || !bytes.Equal(res.stdout, in) {
		t.Fatalf("exit %d stderr %q", res.code, res.stderr)
	}
	db := testkit.OpenDB(t, filepath.Join(filepath.Dir(t.TempDir()), "001", "s", "my-run_1.db"))
	var n int
	var model sql.NullString
	testkit.QueryRow(t, db, `SELECT prompt_length, model FROM sessions WHERE id='my-run_1'`, &n, &model)
	if n != 1234 || model.Valid {
		t.Fatalf("prompt_length %d model %v", n, model)
	}

	// A bad id is refused before anything is read or written.
	res, _ = teeRun(t, in, nil, "--session-id", "../escape")
	if res.code != 2 || !bytes.Contains(res.stderr, []byte("convlog: --session-id")) {
		t.Fatalf("bad id: exit %d, %s", res.code, res.stderr)
	}
	// CONVLOG_DIR is --dir's environment form.
	dir := t.TempDir()
	res = runConvlog(t, dir, in, []string{"CONVLOG_DIR=elsewhere"}, "tee")
	if m, _ := filepath.Glob(filepath.Join(dir, "elsewhere", "*.db")); res.code != 0 || len(m) != 1 {
		t.Fatalf("CONVLOG_DIR: exit %d, files %v, %s", res.code, m, res.stderr)
	}
}

func TestTeeUnwritableFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	in, _ := os.ReadFile("testdata/sample.jsonl")
	for _, strict := range []bool{false, true} {
		args := []string{"tee", "--dir", "file/sessions"}
		if strict {
			args = append(args, "--strict")
		}
		res := runConvlog(t, dir, in, nil, args...)
		want := 0
		if strict {
			want = 1
		}
		if res.code != want || !bytes.Equal(res.stdout, in) {
			t.Fatalf("strict=%v: exit %d, stdout equal %v", strict, res.code, bytes.Equal(res.stdout, in))
		}
		if !bytes.Contains(res.stderr, []byte("convlog: warning: cannot create the session file in file/sessions")) ||
			!bytes.Contains(res.stderr, []byte("convlog: warning: 18 of 18 input lines were not logged.")) {
			t.Fatalf("stderr: %s", res.stderr)
		}
	}
}

// TestTeeLineByLine proves that each line is on stdout before convlog waits
// for the next: the writer sends a line only after the previous one came out.
func TestTeeLineByLine(t *testing.T) {
	cmd := exec.Command(testkit.Bin, "tee", "--dir", t.TempDir(), "--quiet")
	cmd.Env = testkit.CleanEnv()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	for i := range 200 {
		line := fmt.Sprintf(`{"type":"assistant","n":%d}`+"\n", i)
		if i%50 == 49 {
			line = "not json " + line
		}
		if _, err := io.WriteString(stdin, line); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() { s, _ := r.ReadString('\n'); got <- s }()
		select {
		case s := <-got:
			if s != line {
				t.Fatalf("line %d came out as %q", i, s)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("line %d not passed through while convlog waits for more input", i)
		}
	}
	// A last line without '\n' also comes out before EOF.
	io.WriteString(stdin, "partial")
	buf := make([]byte, 7)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "partial" {
		t.Fatalf("partial line: %q %v", buf, err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestTeeStdoutClosed: `convlog tee | head -1`. The reader goes away; convlog
// still reads and logs everything, and the writer is not hit by SIGPIPE.
func TestTeeStdoutClosed(t *testing.T) {
	dir := t.TempDir()
	var in bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&in, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, strings.Repeat("p", 200))
	}
	cmd := exec.Command("sh", "-c", fmt.Sprintf("%s tee --dir s | head -c 10 >/dev/null", testkit.Bin))
	cmd.Dir = dir
	cmd.Env = testkit.CleanEnv()
	cmd.Stdin = bytes.NewReader(in.Bytes()) // a Go copier feeds the pipe: it would get EPIPE if convlog quit
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pipeline: %v (stderr %s): the writer saw the pipe close", err, stderr.String())
	}
	if bytes.Contains(stderr.Bytes(), []byte("convlog: warning")) {
		t.Fatalf("a closed stdout is not worth a warning: %s", stderr.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "s", "*.db"))
	if len(files) != 1 {
		t.Fatalf("session files: %v", files)
	}
	var n int
	testkit.QueryRow(t, testkit.OpenDB(t, files[0]), `SELECT count(*) FROM messages`, &n)
	if n != 5000 {
		t.Fatalf("%d lines logged, want 5000", n)
	}
}

// startTee runs convlog tee with a stdin the test writes to; its stderr
// comes line by line on the channel.
func startTee(t *testing.T, dir string, args ...string) (*exec.Cmd, io.WriteCloser, <-chan string, string) {
	t.Helper()
	cmd := exec.Command(testkit.Bin, append([]string{"tee", "--dir", dir, "--session-id", "live"}, args...)...)
	cmd.Env = testkit.CleanEnv()
	stdin, _ := cmd.StdinPipe()
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, stdin, lines, filepath.Join(dir, "live.db")
}

// waitForLine reads stderr lines until one contains want.
func waitForLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stderr ended before %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no %q on stderr", want)
		}
	}
}

func TestTeeSignals(t *testing.T) {
	line := `{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","id":"u1","name":"Bash","input":{}}]}}` + "\n"
	t.Run("SIGINT then EOF finalises", func(t *testing.T) {
		cmd, stdin, stderr, path := startTee(t, t.TempDir())
		io.WriteString(stdin, line)
		testkit.WaitForMessages(t, path, 1)
		cmd.Process.Signal(syscall.SIGINT)
		waitForLine(t, stderr, "convlog: interrupted: finishing the session")
		io.WriteString(stdin, "last words\n") // still drained during the grace period
		stdin.Close()
		if code := testkit.ExitCode(cmd.Wait()); code != 130 {
			t.Fatalf("exit %d, want 130", code)
		}
		db := testkit.OpenDB(t, path)
		var ended sql.NullInt64
		var n int
		testkit.QueryRow(t, db, `SELECT ended_at, total_messages FROM sessions`, &ended, &n)
		if !ended.Valid || n != 2 {
			t.Fatalf("ended %v messages %d", ended, n)
		}
	})
	// Ctrl-C reaches the agent too, which stops: the signal and the end
	// of the input come together, and whichever tee sees first, it exits
	// 130. Go hands a signal on from a goroutine of its own, so a look at
	// the channel at the end of the input missed it, now and then.
	t.Run("SIGINT with EOF", func(t *testing.T) {
		for _, args := range [][]string{{"--no-log"}, {"--quiet"}} {
			for i := range 15 {
				cmd := exec.Command(testkit.Bin, append([]string{"tee", "--dir", t.TempDir()}, args...)...)
				cmd.Env = append(testkit.CleanEnv(), "CONVLOG_HANDOVER=never")
				stdin, _ := cmd.StdinPipe()
				stdout, _ := cmd.StdoutPipe()
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				io.WriteString(stdin, line)
				// Its line passed through: tee is reading, its signals set up.
				if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
					t.Fatal(err)
				}
				cmd.Process.Signal(syscall.SIGINT)
				stdin.Close()
				if code := testkit.ExitCode(cmd.Wait()); code != 130 {
					t.Fatalf("%v, run %d: exit %d, want 130", args, i, code)
				}
			}
		}
	})
	t.Run("second SIGTERM exits at once", func(t *testing.T) {
		cmd, stdin, _, path := startTee(t, t.TempDir())
		defer stdin.Close()
		io.WriteString(stdin, line)
		testkit.WaitForMessages(t, path, 1)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Process.Signal(syscall.SIGTERM)
		if code := testkit.ExitCode(cmd.Wait()); code != 143 {
			t.Fatalf("exit %d, want 143", code)
		}
		db := testkit.OpenDB(t, path)
		var ended sql.NullInt64
		var status string
		testkit.QueryRow(t, db, `SELECT ended_at FROM sessions`, &ended)
		testkit.QueryRow(t, db, `SELECT status FROM tool_calls`, &status)
		if !ended.Valid || status != "pending" {
			t.Fatalf("ended %v, tool status %q", ended, status)
		}
	})
	t.Run("a second signal counts what it did not log", func(t *testing.T) {
		// A flood of lines, faster than they are logged: when the session
		// stops at once, some were passed through and never logged.
		dir := t.TempDir()
		cmd := exec.Command(testkit.Bin, "tee", "--quiet", "--dir", dir, "--session-id", "live")
		cmd.Env = append(testkit.CleanEnv(), "CONVLOG_HANDOVER=never")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		go func() {
			pad := strings.Repeat("p", 300)
			for i := 0; ; i++ {
				if _, err := fmt.Fprintf(stdin, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, pad); err != nil {
					return
				}
			}
		}()
		out := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(stdout)
			out <- b
		}()
		path := filepath.Join(dir, "live.db")
		testkit.WaitForMessages(t, path, 1000)
		// Two signals of different kinds: two SIGTERMs sent at once may
		// arrive as one, and the second then comes from the grace's end.
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Process.Signal(syscall.SIGTERM)
		passed := testkit.SplitLines(<-out)
		// The status is 128 + the signal that came first. Sent one after
		// the other, they may still be taken in either order, by two
		// threads at once (under -race and load, SIGTERM was, once).
		if code := testkit.ExitCode(cmd.Wait()); code != 130 && code != 143 {
			t.Fatalf("exit %d, want 130 (SIGINT) or 143 (SIGTERM); stderr: %s", code, stderr.String())
		}
		db := testkit.OpenDB(t, path)
		var total, dropped int
		testkit.QueryRow(t, db, `SELECT total_messages, lines_dropped FROM sessions`, &total, &dropped)
		if dropped == 0 || total+dropped != len(passed) {
			t.Fatalf("%d lines passed through, %d logged, %d dropped; stderr: %s", len(passed), total, dropped, stderr.String())
		}
		if want := fmt.Sprintf("convlog: warning: %d of %d input lines were not logged.", dropped, len(passed)); !strings.Contains(stderr.String(), want) {
			t.Fatalf("stderr: %s, want %q", stderr.String(), want)
		}
		for seq, raw := range testkit.StoredLines(t, db) {
			if !bytes.Equal(raw, passed[seq]) {
				t.Fatalf("message %d is %.60q, passed through %.60q", seq, raw, passed[seq])
			}
		}
	})
	t.Run("SIGKILL leaves an incomplete but sound file", func(t *testing.T) {
		cmd, stdin, _, path := startTee(t, t.TempDir())
		defer stdin.Close()
		for i := range 100 {
			fmt.Fprintf(stdin, `{"type":"assistant","i":%d}`+"\n", i)
		}
		testkit.WaitForMessages(t, path, 100)
		cmd.Process.Kill()
		cmd.Wait()
		db := testkit.OpenDB(t, path)
		var check string
		testkit.QueryRow(t, db, `PRAGMA integrity_check`, &check)
		var ended sql.NullInt64
		var total int
		testkit.QueryRow(t, db, `SELECT ended_at, total_messages FROM sessions WHERE ended_at IS NULL`, &ended, &total)
		if check != "ok" || total != 100 || len(testkit.StoredLines(t, db)) != 100 {
			t.Fatalf("integrity %q, total %d", check, total)
		}
	})
}

// TestTeeFileSizeLimit stands for a full disk: no file of the session can
// grow past 2 MB (ulimit -f 4000, in 512-byte blocks). The input is twice
// that, so that not even the WAL can take it all. The pass-through stays
// exact and the loss is reported.
func TestTeeFileSizeLimit(t *testing.T) {
	var in bytes.Buffer
	for i := range 12000 {
		fmt.Fprintf(&in, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, strings.Repeat("z", 300))
	}
	for _, strict := range []string{"", "--strict"} {
		dir := t.TempDir()
		cmd := exec.Command("sh", "-c", `ulimit -f 4000; exec "$0" tee --dir s --session-id full $1`, testkit.Bin, strict)
		cmd.Dir = dir
		cmd.Env = testkit.CleanEnv()
		cmd.Stdin = bytes.NewReader(in.Bytes())
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		code := testkit.ExitCode(cmd.Run())
		want := 0
		if strict != "" {
			want = 1
		}
		if code != want || !bytes.Equal(out.Bytes(), in.Bytes()) {
			t.Fatalf("%q: exit %d, stdout equal %v, stderr %s", strict, code, bytes.Equal(out.Bytes(), in.Bytes()), stderr.String())
		}
		if n := strings.Count(stderr.String(), "cannot write to session file"); n != 1 ||
			!strings.Contains(stderr.String(), "free some") ||
			!regexp.MustCompile(`convlog: warning: \d+ of 12000 input lines were not logged`).MatchString(stderr.String()) {
			t.Fatalf("%q: stderr %s", strict, stderr.String())
		}
		// What could be committed is intact: every stored message is its
		// input line, and stored plus dropped lines account for all of them.
		db := testkit.OpenDB(t, filepath.Join(dir, "s", "full.db"))
		var check string
		var total, dropped int
		testkit.QueryRow(t, db, `PRAGMA integrity_check`, &check)
		testkit.QueryRow(t, db, `SELECT total_messages, lines_dropped FROM sessions`, &total, &dropped)
		lines := testkit.SplitLines(in.Bytes())
		stored := testkit.StoredBySequence(t, db)
		for seq, raw := range stored {
			if !bytes.Equal(raw, lines[seq]) {
				t.Fatalf("%q: message %d is not input line %d", strict, seq, seq)
			}
		}
		// The loss is counted in the session if the file could still take
		// the count, and always on stderr.
		m := regexp.MustCompile(`(\d+) of 12000 input lines were not logged`).FindStringSubmatch(stderr.String())
		reported, _ := strconv.Atoi(m[1])
		if check != "ok" || len(stored) == 0 || len(stored) != total || total+reported != 12000 ||
			(dropped != 0 && dropped != reported) {
			t.Fatalf("%q: integrity %q, %d stored, total %d, dropped %d, reported %d", strict, check, len(stored), total, dropped, reported)
		}
	}
}

// TestTeeLockedFile: another process holds the session file locked for a
// while. Lines keep passing through at once; those that could not be written
// are counted in the session once the lock is gone.
func TestTeeLockedFile(t *testing.T) {
	t.Parallel() // mostly waiting for the lock
	dir := t.TempDir()
	cmd := exec.Command(testkit.Bin, "tee", "--dir", dir, "--session-id", "live")
	cmd.Env = testkit.CleanEnv()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	out := bufio.NewReader(stdout)
	send := func(i int) {
		l := fmt.Sprintf(`{"type":"assistant","i":%d}`+"\n", i)
		io.WriteString(stdin, l)
		if got, _ := out.ReadString('\n'); got != l {
			t.Fatalf("line %d came out as %q", i, got)
		}
	}
	send(0)
	path := filepath.Join(dir, "live.db")
	testkit.WaitForMessages(t, path, 1)

	locker, err := sql.Open("sqlite", record.DSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	conn, err := locker.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		send(i) // each comes out at once although nothing can be written
	}
	waitForLine(t, lines, "another process holds the file locked")
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	for i := 6; i <= 10; i++ {
		send(i)
	}
	stdin.Close()
	io.Copy(io.Discard, out)
	if code := testkit.ExitCode(cmd.Wait()); code != 0 {
		t.Fatalf("exit %d", code)
	}
	db := testkit.OpenDB(t, path)
	var total, dropped, stored int
	testkit.QueryRow(t, db, `SELECT total_messages, lines_dropped, (SELECT count(*) FROM messages) FROM sessions`, &total, &dropped, &stored)
	if dropped == 0 || total != stored || total+dropped != 11 {
		t.Fatalf("total %d dropped %d stored %d", total, dropped, stored)
	}
	var last int
	testkit.QueryRow(t, db, `SELECT max(sequence) FROM messages`, &last)
	if last != 10 {
		t.Fatalf("lines after the lock was released are missing: last sequence %d", last)
	}
}

func TestTeeNoLog(t *testing.T) {
	in, _ := os.ReadFile("testdata/sample.jsonl")
	dir := t.TempDir()
	res := runConvlog(t, dir, in, []string{"CONVLOG_DIR=" + filepath.Join(dir, "s")}, "tee", "--no-log")
	if res.code != 0 || !bytes.Equal(res.stdout, in) || len(res.stderr) != 0 {
		t.Fatalf("exit %d, stdout equal %v, stderr %q", res.code, bytes.Equal(res.stdout, in), res.stderr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("--no-log left %d entries in the working folder", len(entries))
	}
}

// The collector gets room for half the live heap, but never less than
// gcHeadroom: Go's smallest goal at GOGC=200 is 8 MB.
func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 200}, {1 << 20, 200}, {4 << 20, 200}, {8 << 20, 100}, {12 << 20, 66}, {16 << 20, 50}, {1 << 30, 50},
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// In a pause of the stream, tee copies its WAL into the session file
// (Writer.Pause): 3 MB of lines and a pause, and the file itself holds them
// before the stream ends. Without it they would wait in the WAL for 48 MB
// more, or for the end. The 3 MB come once the file has switched to large
// pages, which copies the WAL into the file by itself.
func TestTeeCheckpointsInAPause(t *testing.T) {
	dir := t.TempDir()
	_, stdin, _, path := startTee(t, dir, "--quiet")
	pad := strings.Repeat("x", 10<<10)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := fmt.Fprintf(stdin, `{"type":"assistant","seq":%d,"pad":"%s"}`+"\n", i, pad); err != nil {
				t.Fatal(err)
			}
		}
	}
	size := func(p string) int64 {
		if st, err := os.Stat(p); err == nil {
			return st.Size()
		}
		return -1
	}
	waitUntil := func(what string, ok func() bool) {
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the file has %d bytes, its WAL %d", what, size(path), size(path+"-wal"))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	send(0, 30)
	waitUntil("the file never switched to large pages", func() bool {
		head := make([]byte, 18)
		f, err := os.Open(path)
		if err != nil {
			return false
		}
		defer f.Close()
		_, err = f.ReadAt(head, 0)
		return err == nil && head[16] == 0 && head[17] == 1 // 65536, as the header says it
	})
	before := size(path)
	send(30, 330)
	waitUntil("the session file never took in the WAL in a pause", func() bool { return size(path) >= before+3_000_000 })
	stdin.Close()
}
