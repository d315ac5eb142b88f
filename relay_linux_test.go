package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// relayedTee is a running `convlog tee` fed one line at a time: each line is
// read back from its stdout before the next is written, so no byte is ever
// in flight between lines.
type relayedTee struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *bytes.Buffer
	path   string
	sent   [][]byte
}

// startRelayedTee starts tee with its handover at once, whatever the
// machine is doing, so that a test can make it happen early.
func startRelayedTee(t *testing.T, args ...string) *relayedTee {
	return startTeeWith(t, []string{"CONVLOG_HANDOVER=0s"}, args...)
}

func startTeeWith(t *testing.T, env []string, args ...string) *relayedTee {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(convlogBin, append([]string{"tee", "--quiet", "--dir", dir, "--session-id", "live"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	// A group of its own, for a Ctrl-C that reaches tee and its
	// pass-through process alike.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	rt := &relayedTee{t: t, cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: &bytes.Buffer{},
		path: filepath.Join(dir, "live.db")}
	cmd.Stderr = rt.stderr
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

// send writes one line and reads it back.
func (rt *relayedTee) send(line string) {
	rt.t.Helper()
	line += "\n"
	if _, err := io.WriteString(rt.stdin, line); err != nil {
		rt.t.Fatalf("write line %d: %v", len(rt.sent), err)
	}
	got, err := rt.stdout.ReadString('\n')
	if err != nil || got != line {
		rt.t.Fatalf("line %d came back as %q (%v), want %q; stderr: %s", len(rt.sent), got, err, line, rt.stderr)
	}
	rt.sent = append(rt.sent, []byte(line[:len(line)-1]))
}

func (rt *relayedTee) line(i int) string {
	return fmt.Sprintf(`{"type":"assistant","message":{"id":"m%d","content":[{"type":"text","text":"line %d"}]}}`, i, i)
}

// burst sends n lines of 1 KB at once, reading them back as they come: the
// pass-through process reaches the end of the input well before tee has
// logged it all.
func (rt *relayedTee) burst(n int) {
	rt.t.Helper()
	var b bytes.Buffer
	start := len(rt.sent)
	for i := range n {
		line := fmt.Sprintf(`{"type":"user","i":%d,"pad":"%s"}`, start+i, strings.Repeat("x", 1000))
		rt.sent = append(rt.sent, []byte(line))
		b.WriteString(line + "\n")
	}
	want := b.Bytes()
	written := make(chan error, 1)
	go func() {
		_, err := rt.stdin.Write(want)
		written <- err
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(rt.stdout, got); err != nil || !bytes.Equal(got, want) {
		rt.t.Fatalf("the burst came back different (%v)", err)
	}
	if err := <-written; err != nil {
		rt.t.Fatal(err)
	}
}

// handOver sends lines until tee's pass-through process reads stdin, and
// returns that process's pid.
func (rt *relayedTee) handOver() int {
	rt.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		rt.send(rt.line(len(rt.sent)))
		if pid := relayOf(rt.cmd.Process.Pid); pid > 0 && readingFD(pid, 0) {
			return pid
		}
		time.Sleep(2 * time.Millisecond)
	}
	rt.t.Fatalf("the pass-through process never took over (stderr: %s)", rt.stderr)
	return 0
}

// finish closes stdin and returns tee's exit status, having checked that
// stdout ended with the lines sent.
func (rt *relayedTee) finish() int {
	rt.t.Helper()
	rt.stdin.Close()
	rest, _ := io.ReadAll(rt.stdout)
	if len(rest) > 0 {
		rt.t.Fatalf("stdout has %q after the lines sent", rest)
	}
	return exitCode(rt.cmd.Wait())
}

// relayOf is the pid of tee's pass-through process, or 0.
func relayOf(tee int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", tee))
	for _, task := range tasks {
		kids, _ := os.ReadFile(task)
		for _, k := range strings.Fields(string(kids)) {
			cmdline, _ := os.ReadFile("/proc/" + k + "/cmdline")
			if string(cmdline) == "convlog\x00tee\x00--relay\x00" {
				pid, _ := strconv.Atoi(k)
				return pid
			}
		}
	}
	return 0
}

// readingFD reports whether a thread of pid is in a read(2) of fd.
func readingFD(pid, fd int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		f := strings.Fields(string(b))
		if len(f) > 1 && f[0] == strconv.Itoa(syscall.SYS_READ) && f[1] == fmt.Sprintf("0x%x", fd) {
			return true
		}
	}
	return false
}

// checkLogged checks that the session holds every line sent, in order, at
// times from the reads that brought them.
func (rt *relayedTee) checkLogged(started time.Time) *sql.DB {
	rt.t.Helper()
	db := openDB(rt.t, rt.path)
	stored := storedLines(rt.t, db)
	if len(stored) != len(rt.sent) {
		rt.t.Fatalf("%d lines stored, %d sent", len(stored), len(rt.sent))
	}
	for i := range stored {
		if !bytes.Equal(stored[i], rt.sent[i]) {
			rt.t.Fatalf("line %d stored as %q, sent %q", i, stored[i], rt.sent[i])
		}
	}
	rows, err := db.Query(`SELECT timestamp FROM messages ORDER BY sequence`)
	if err != nil {
		rt.t.Fatal(err)
	}
	defer rows.Close()
	last := started.UnixMilli()
	for i := 0; rows.Next(); i++ {
		var ts int64
		rows.Scan(&ts)
		if ts < last || ts > time.Now().UnixMilli() {
			rt.t.Fatalf("line %d read at %d, after a line read at %d", i, ts, last)
		}
		last = ts
	}
	return db
}

// A session's pass-through moves to a process of its own: every byte still
// comes out in order, every line is logged, with its time, and a tool call
// begun before the move ends after it.
func TestTeeHandsOverToARelay(t *testing.T) {
	started := time.Now()
	rt := startRelayedTee(t)
	rt.send(`{"type":"assistant","message":{"id":"u","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"make"}}]}}`)
	relay := rt.handOver()
	rt.send(`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}}`)
	for i := range 50 {
		rt.send(rt.line(i))
	}
	rt.burst(20000)
	if code := rt.finish(); code != 0 {
		t.Fatalf("exit %d: %s", code, rt.stderr)
	}
	if rt.stderr.Len() > 0 {
		t.Fatalf("stderr: %s", rt.stderr)
	}
	db := rt.checkLogged(started)
	var status string
	queryRow(t, db, `SELECT status FROM tool_calls WHERE id = 't1'`, &status)
	if status != "success" {
		t.Fatalf("the tool call across the handover is %q", status)
	}
	if err := syscall.Kill(relay, 0); err != syscall.ESRCH {
		t.Fatalf("the pass-through process %d outlived tee: %v", relay, err)
	}
}

// A pass-through process that dies: tee passes the input through itself
// again, says so, and loses nothing that was not in flight.
func TestTeeTakesBackFromADeadRelay(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			var args []string
			if strict {
				args = append(args, "--strict")
			}
			started := time.Now()
			rt := startRelayedTee(t, args...)
			relay := rt.handOver()
			// Every line sent is logged before the kill: the relay has no
			// byte left to pass on.
			waitForMessages(t, rt.path, len(rt.sent))
			// Dead before the next line: a process being killed in a read
			// can still take bytes from the pipe.
			exited := waitForExit(t, relay)
			if err := syscall.Kill(relay, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if !exited() {
				t.Fatalf("the pass-through process %d did not die", relay)
			}
			for i := range 20 {
				rt.send(rt.line(1000 + i))
			}
			code := rt.finish()
			if want := map[bool]int{false: 0, true: 1}[strict]; code != want {
				t.Fatalf("exit %d, want %d: %s", code, want, rt.stderr)
			}
			if !strings.Contains(rt.stderr.String(), "convlog: warning: the pass-through process ended unexpectedly") {
				t.Fatalf("stderr: %s", rt.stderr)
			}
			rt.checkLogged(started)
		})
	}
}

// A killed tee takes its pass-through process with it, as it did when it
// was one process.
func TestTeeRelayDiesWithTee(t *testing.T) {
	rt := startRelayedTee(t)
	relay := rt.handOver()
	exited := waitForExit(t, relay)
	rt.cmd.Process.Kill()
	if !exited() {
		t.Fatalf("the pass-through process %d is still running 20 s after tee was killed", relay)
	}
}

// waitForExit returns what waits up to 20 s for pid to end, and reports
// whether it did. pid is taken hold of now, so that its number cannot be
// taken by another process meanwhile.
func waitForExit(t *testing.T, pid int) func() bool {
	t.Helper()
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	t.Cleanup(func() { unix.Close(pidfd) })
	return func() bool {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, 20000)
			if err != unix.EINTR {
				return n == 1
			}
		}
	}
}

// Ctrl-C after the handover: the pass-through process leaves it to tee, and
// the input is still drained to its end and the session finished, as
// before the handover.
func TestTeeRelayInterrupted(t *testing.T) {
	started := time.Now()
	rt := startRelayedTee(t)
	rt.handOver()
	syscall.Kill(-rt.cmd.Process.Pid, syscall.SIGINT)
	for i := range 10 {
		rt.send(rt.line(2000 + i))
	}
	if code := rt.finish(); code != 130 || rt.stderr.Len() > 0 {
		t.Fatalf("exit %d, want 130; stderr: %s", code, rt.stderr)
	}
	db := rt.checkLogged(started)
	var ended sql.NullInt64
	queryRow(t, db, `SELECT ended_at FROM sessions`, &ended)
	if !ended.Valid {
		t.Fatal("the interrupted session was not finished")
	}
}

func TestTeeRelayByHand(t *testing.T) {
	res := runConvlog(t, t.TempDir(), []byte("{}\n"), nil, "tee", "--relay")
	if res.code != 2 || !strings.Contains(string(res.stderr), "convlog: tee --relay is the pass-through process of another convlog tee, not for use by hand") {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
}

// On a machine with no CPU to spare, tee hands the pass-through over by
// itself: here every CPU is kept busy by this test.
func TestTeeHandsOverOnABusyMachine(t *testing.T) {
	started := time.Now()
	rt := startTeeWith(t, nil)
	stop := make(chan struct{})
	defer close(stop)
	for range 2*runtime.NumCPU() + 1 {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	relay := rt.handOver()
	for i := range 20 {
		rt.send(rt.line(3000 + i))
	}
	// tee tells the pass-through process when its logger is starved, so
	// that the process holds more for it (stream.Relay.MaxStarved); the
	// word waits on the process's fd 4 until the process needs it. Whether
	// the logger is starved here depends on the kernel's choices (it may
	// get a turn, see that it is starved and move to an ordinary thread,
	// or get enough turns), so the word may not come; if it has, it is 'M'.
	if word, ok := wordSaid(t, relay); ok && word != 'M' {
		t.Fatalf("tee said %q to its pass-through process, want 'M' (starved)", word)
	}
	if code := rt.finish(); code != 0 || rt.stderr.Len() > 0 {
		t.Fatalf("exit %d; stderr: %s", code, rt.stderr)
	}
	rt.checkLogged(started)
}

// wordSaid takes the first byte tee has written on the pass-through process
// pid's control pipe (its fd 4) since the 'G' that began it, if there is one.
func wordSaid(t *testing.T, pid int) (byte, bool) {
	t.Helper()
	fd, err := syscall.Open(fmt.Sprintf("/proc/%d/fd/%d", pid, 4), syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	var b [1]byte
	n, _ := syscall.Read(fd, b[:])
	return b[0], n == 1
}

// A thread is starved when, over the last starvedFor, it ran for less than
// a tenth of the time and waited for a CPU over half of it; a slice now and
// then (as a thread of idle priority gets on a busy machine) does not
// change that, and a thread that runs most of the time is never starved,
// however long it waits as well.
func TestStarvation(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	ms := time.Millisecond
	check := func(name string, ranPer, waitedPer func(i int) time.Duration, want []bool) {
		t.Helper()
		var s starvation
		var ran, waited time.Duration
		for i, w := range want {
			ran += ranPer(i)
			waited += waitedPer(i)
			if got := s.add(t0.Add(time.Duration(i)*busyCheck), ran, waited); got != w {
				t.Fatalf("%s: check %d said %v, want %v", name, i, got, w)
			}
		}
	}
	never := func(int) time.Duration { return 0 }
	all := func(int) time.Duration { return busyCheck }
	// Kept waiting from the start: starved once a whole starvedFor has
	// passed (10 checks of 20 ms), and still with a 4 ms slice at check 12.
	want := make([]bool, 16)
	for i := 10; i < 16; i++ {
		want[i] = true
	}
	check("starved", func(i int) time.Duration {
		if i == 12 {
			return 4 * ms
		}
		return 0
	}, all, want)
	// Running most of the time while also waiting: busy, not starved.
	check("busy", func(int) time.Duration { return 12 * ms }, func(int) time.Duration { return 15 * ms }, make([]bool, 16))
	// Asleep (neither running nor waiting): not starved.
	check("asleep", never, never, make([]bool, 16))
}
