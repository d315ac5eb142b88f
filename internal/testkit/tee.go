package testkit

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tee is a running `convlog tee` fed one line at a time: each line is
// read back from its stdout before the next is written, so no byte is ever
// in flight between lines.
type Tee struct {
	T      *testing.T
	Cmd    *exec.Cmd
	Stdin  io.WriteCloser
	Stdout *bufio.Reader
	Stderr *Buffer
	Path   string   // the session file
	Sent   [][]byte // the lines sent, without their newlines
}

// StartTee starts `convlog tee` on session "live" in a new folder, with
// extra environment variables (KEY=VALUE) and arguments.
func StartTee(t *testing.T, env []string, args ...string) *Tee {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(Bin, append([]string{"tee", "--quiet", "--dir", dir, "--session-id", "live"}, args...)...)
	cmd.Env = append(CleanEnv(), env...)
	// A group of its own, for a Ctrl-C that reaches tee and its
	// pass-through process alike.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	rt := &Tee{T: t, Cmd: cmd, Stdin: stdin, Stdout: bufio.NewReader(stdout), Stderr: &Buffer{},
		Path: filepath.Join(dir, "live.db")}
	cmd.Stderr = rt.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A test that goes wrong fails, rather than waits for a line forever.
	stdout.(*os.File).SetReadDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() {
		// The whole group: a pass-through process that outlived tee
		// would hold stderr open, and Wait would wait for it.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return rt
}

// Send writes one line and reads it back.
func (rt *Tee) Send(line string) {
	rt.T.Helper()
	line += "\n"
	if _, err := io.WriteString(rt.Stdin, line); err != nil {
		rt.T.Fatalf("write line %d: %v", len(rt.Sent), err)
	}
	got, err := rt.Stdout.ReadString('\n')
	if err != nil || got != line {
		rt.T.Fatalf("line %d came back as %q (%v), want %q; stderr: %s", len(rt.Sent), got, err, line, rt.Stderr)
	}
	rt.Sent = append(rt.Sent, []byte(line[:len(line)-1]))
}

// Line is the i-th line of a plain stream.
func (rt *Tee) Line(i int) string {
	return fmt.Sprintf(`{"type":"assistant","message":{"id":"m%d","content":[{"type":"text","text":"line %d"}]}}`, i, i)
}

// Burst sends n lines of 1 KB at once, reading them back as they come: the
// pass-through process reaches the end of the input well before tee has
// logged it all.
func (rt *Tee) Burst(n int) {
	rt.T.Helper()
	var b bytes.Buffer
	start := len(rt.Sent)
	for i := range n {
		line := fmt.Sprintf(`{"type":"user","i":%d,"pad":"%s"}`, start+i, strings.Repeat("x", 1000))
		rt.Sent = append(rt.Sent, []byte(line))
		b.WriteString(line + "\n")
	}
	want := b.Bytes()
	written := make(chan error, 1)
	go func() {
		_, err := rt.Stdin.Write(want)
		written <- err
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(rt.Stdout, got); err != nil || !bytes.Equal(got, want) {
		rt.T.Fatalf("the burst came back different (%v)", err)
	}
	if err := <-written; err != nil {
		rt.T.Fatal(err)
	}
}

// Finish closes stdin and returns tee's exit status, having checked that
// stdout ended with the lines sent.
func (rt *Tee) Finish() int {
	rt.T.Helper()
	rt.Stdin.Close()
	rest, _ := io.ReadAll(rt.Stdout)
	if len(rest) > 0 {
		rt.T.Fatalf("stdout has %q after the lines sent", rest)
	}
	return ExitCode(rt.Cmd.Wait())
}

// CheckLogged checks that the session holds every line sent, in order, at
// times from the reads that brought them.
func (rt *Tee) CheckLogged(started time.Time) *sql.DB {
	rt.T.Helper()
	db := OpenDB(rt.T, rt.Path)
	stored := StoredLines(rt.T, db)
	if len(stored) != len(rt.Sent) {
		rt.T.Fatalf("%d lines stored, %d sent", len(stored), len(rt.Sent))
	}
	for i := range stored {
		if !bytes.Equal(stored[i], rt.Sent[i]) {
			rt.T.Fatalf("line %d stored as %q, sent %q", i, stored[i], rt.Sent[i])
		}
	}
	rows, err := db.Query(`SELECT timestamp FROM messages ORDER BY sequence`)
	if err != nil {
		rt.T.Fatal(err)
	}
	defer rows.Close()
	last := started.UnixMilli()
	for i := 0; rows.Next(); i++ {
		var ts int64
		rows.Scan(&ts)
		if ts < last || ts > time.Now().UnixMilli() {
			rt.T.Fatalf("line %d read at %d, after a line read at %d", i, ts, last)
		}
		last = ts
	}
	return db
}

// Buffer is a bytes.Buffer that a command's output may be copied into
// while a test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Len is how many bytes it holds.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}
