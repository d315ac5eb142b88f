package relay

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/convlog/convlog/internal/testkit"
)

// startRelayed starts tee with its handover at once, whatever the machine
// is doing, so that a test can make it happen early.
func startRelayed(t *testing.T, args ...string) *testkit.Tee {
	return testkit.StartTee(t, []string{"CONVLOG_HANDOVER=0s"}, args...)
}

// handOver sends lines until tee's pass-through process reads stdin, and
// returns that process's pid.
func handOver(rt *testkit.Tee) int {
	rt.T.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		rt.Send(rt.Line(len(rt.Sent)))
		if pid := relayOf(rt.Cmd.Process.Pid); pid > 0 && readingFD(pid, 0) {
			return pid
		}
		time.Sleep(2 * time.Millisecond)
	}
	// What each thread of tee and of its pass-through process was doing,
	// for the failure's reader.
	pid := relayOf(rt.Cmd.Process.Pid)
	var threads []string
	for _, p := range []int{rt.Cmd.Process.Pid, pid} {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p))
		for _, task := range tasks {
			call, _ := os.ReadFile(task + "/syscall")
			stat, _ := os.ReadFile(task + "/stat")
			threads = append(threads, fmt.Sprintf("%s: syscall %s; stat %s", task, bytes.TrimSpace(call), bytes.TrimSpace(stat)))
		}
	}
	rt.T.Fatalf("the pass-through process (pid %d) never took over (stderr: %s); threads:\n%s", pid, rt.Stderr, strings.Join(threads, "\n"))
	return 0
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

// A session's pass-through moves to a process of its own: every byte still
// comes out in order, every line is logged, with its time, and a tool call
// begun before the move ends after it.
func TestTeeHandsOverToARelay(t *testing.T) {
	started := time.Now()
	rt := startRelayed(t)
	rt.Send(`{"type":"assistant","message":{"id":"u","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"make"}}]}}`)
	relay := handOver(rt)
	rt.Send(`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}}`)
	for i := range 50 {
		rt.Send(rt.Line(i))
	}
	rt.Burst(20000)
	if code := rt.Finish(); code != 0 {
		t.Fatalf("exit %d: %s", code, rt.Stderr)
	}
	if rt.Stderr.Len() > 0 {
		t.Fatalf("stderr: %s", rt.Stderr)
	}
	db := rt.CheckLogged(started)
	var status string
	testkit.QueryRow(t, db, `SELECT status FROM tool_calls WHERE id = 't1'`, &status)
	if status != "success" {
		t.Fatalf("the tool call across the handover is %q", status)
	}
	if err := syscall.Kill(relay, 0); err != syscall.ESRCH {
		t.Fatalf("the pass-through process %d outlived tee: %v", relay, err)
	}
}

// A pass-through process that dies between lines: tee passes the input
// through itself again and says so; nothing was lost, so that --strict
// does not fail. (TestTeeKilledRelayLosesNothing kills it mid-stream.)
func TestTeeTakesBackFromADeadRelay(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			var args []string
			if strict {
				args = append(args, "--strict")
			}
			started := time.Now()
			rt := startRelayed(t, args...)
			relay := handOver(rt)
			// Every line sent is logged before the kill: the relay has no
			// byte left to pass on.
			testkit.WaitForMessages(t, rt.Path, len(rt.Sent))
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
				rt.Send(rt.Line(1000 + i))
			}
			if code := rt.Finish(); code != 0 {
				t.Fatalf("exit %d, want 0: %s", code, rt.Stderr)
			}
			if !strings.Contains(rt.Stderr.String(), "convlog: warning: the pass-through process ended unexpectedly; convlog passed the rest of the input through itself, from the byte that process had reached: nothing was lost.") {
				t.Fatalf("stderr: %s", rt.Stderr)
			}
			rt.CheckLogged(started)
		})
	}
}

// A killed tee takes its pass-through process with it, as it did when it
// was one process.
func TestTeeRelayDiesWithTee(t *testing.T) {
	rt := startRelayed(t)
	relay := handOver(rt)
	exited := waitForExit(t, relay)
	rt.Cmd.Process.Kill()
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
	rt := startRelayed(t)
	handOver(rt)
	syscall.Kill(-rt.Cmd.Process.Pid, syscall.SIGINT)
	for i := range 10 {
		rt.Send(rt.Line(2000 + i))
	}
	if code := rt.Finish(); code != 130 || rt.Stderr.Len() > 0 {
		t.Fatalf("exit %d, want 130; stderr: %s", code, rt.Stderr)
	}
	db := rt.CheckLogged(started)
	var ended sql.NullInt64
	testkit.QueryRow(t, db, `SELECT ended_at FROM sessions`, &ended)
	if !ended.Valid {
		t.Fatal("the interrupted session was not finished")
	}
}

func TestTeeRelayByHand(t *testing.T) {
	res := testkit.Run(t, t.TempDir(), []byte("{}\n"), nil, "tee", "--relay")
	if res.Code != 2 || !strings.Contains(string(res.Stderr), "convlog: tee --relay is the pass-through process of another convlog tee, not for use by hand") {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
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
	check := func(name string, ranPer, waitedPer func(i int) time.Duration, ready func(i int) bool, want []bool) {
		t.Helper()
		s := starvation{window: starvedFor}
		var (
			ran, waited time.Duration
			slices      int64
		)
		for i, w := range want {
			ran += ranPer(i)
			waited += waitedPer(i)
			if ranPer(i) > 0 || waitedPer(i) > 0 {
				slices++ // it got a CPU
			}
			th := threadTimes{at: t0.Add(time.Duration(i) * busyCheck), ran: ran, waited: waited, slices: slices, ready: ready(i)}
			if got := s.add(th); got != w {
				t.Fatalf("%s: check %d said %v, want %v", name, i, got, w)
			}
		}
	}
	never := func(int) time.Duration { return 0 }
	all := func(int) time.Duration { return busyCheck }
	always := func(int) bool { return true }
	asleep := func(int) bool { return false }
	// Kept waiting from the start: starved once a whole starvedFor has
	// passed (10 checks of 20 ms), and still with a 4 ms slice at check 12.
	want := make([]bool, 16)
	for i := 10; i < 16; i++ {
		want[i] = true
	}
	slice := func(i int) time.Duration {
		if i == 12 {
			return 4 * ms
		}
		return 0
	}
	check("starved", slice, all, always, want)
	// Kept waiting with none of the wait counted yet (the kernel counts a
	// wait when it ends) and no CPU since the start: starved as well.
	check("starved, the wait not counted", never, never, always, want)
	// Running most of the time while also waiting: busy, not starved.
	check("busy", func(int) time.Duration { return 12 * ms }, func(int) time.Duration { return 15 * ms }, always, make([]bool, 16))
	// Ready to run at every check, but with a CPU in no time at each
	// wake-up: not starved.
	check("quick turns", func(int) time.Duration { return ms / 10 }, func(int) time.Duration { return ms }, always, make([]bool, 16))
	// Asleep (neither running nor waiting): not starved.
	check("asleep", never, never, asleep, make([]bool, 16))
	// Asleep but at one check, with no CPU time since: not starved.
	check("awake once", never, never, func(i int) bool { return i == 11 }, make([]bool, 16))
}

// A session stopped at once (a second signal) while its pass-through
// process passes a flood of lines on: the process is stopped too, and the
// lines it passed on and tee never logged are counted as dropped, exactly.
func TestTeeRelayStoppedAtOnce(t *testing.T) {
	rt := startRelayed(t)
	relay := handOver(rt)
	exited := waitForExit(t, relay)
	go func() {
		pad := strings.Repeat("p", 300)
		for i := len(rt.Sent); ; i++ {
			if _, err := fmt.Fprintf(rt.Stdin, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, pad); err != nil {
				return
			}
		}
	}()
	out := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(rt.Stdout)
		out <- b
	}()
	testkit.WaitForMessages(t, rt.Path, 1000)
	// Two signals of different kinds: two of a kind sent at once may
	// arrive as one. Sent at once, either may be taken first (two threads
	// can take one each), and the exit status is the first one's.
	rt.Cmd.Process.Signal(syscall.SIGINT)
	rt.Cmd.Process.Signal(syscall.SIGTERM)
	passed := append(rt.Sent, testkit.SplitLines(<-out)...)
	if code := testkit.ExitCode(rt.Cmd.Wait()); code != 130 && code != 143 {
		t.Fatalf("exit %d, want 130 or 143; stderr: %s", code, rt.Stderr)
	}
	if !exited() {
		t.Fatalf("the pass-through process %d is still running", relay)
	}
	db := testkit.OpenDB(t, rt.Path)
	var total, dropped int
	testkit.QueryRow(t, db, `SELECT total_messages, lines_dropped FROM sessions`, &total, &dropped)
	if dropped == 0 || total+dropped != len(passed) {
		t.Fatalf("%d lines passed through, %d logged, %d dropped; stderr: %s", len(passed), total, dropped, rt.Stderr)
	}
	if want := fmt.Sprintf("convlog: warning: %d of %d input lines were not logged.", dropped, len(passed)); rt.Stderr.String() != want+"\n" {
		t.Fatalf("stderr: %s, want %q", rt.Stderr, want)
	}
	for seq, raw := range testkit.StoredLines(t, db) {
		if !bytes.Equal(raw, passed[seq]) {
			t.Fatalf("message %d is %.60q, passed through %.60q", seq, raw, passed[seq])
		}
	}
}

// A pass-through process that collected garbage would start the runtime's
// poller (its scavenger sleeps on a timer), whose eventfd is I/O of the
// process's own: it could not be taken over exactly, and tee would not hand
// over to it. With GOGC=1 in tee's environment, the race build's process
// (whose start alone collects twice) was never handed over to; tee now
// turns collection off for it.
func TestTeeRelayTakesOverWhateverTheGOGC(t *testing.T) {
	started := time.Now()
	rt := testkit.StartTee(t, []string{"CONVLOG_HANDOVER=0s", "GOGC=1"})
	handOver(rt)
	for i := range 100 {
		rt.Send(rt.Line(1000 + i))
	}
	if code := rt.Finish(); code != 0 || rt.Stderr.Len() > 0 {
		t.Fatalf("exit %d; stderr: %s", code, rt.Stderr)
	}
	rt.CheckLogged(started)
}

// The pass-through process reads nothing but its input (and tee's words,
// none here) and writes nothing but stdout and the relay stream: the
// kernel's count of its reads is then how far it got, which is what tee
// takes over from if it dies. Over a couple of seconds, the Go runtime
// would otherwise reread its cgroup's CPU limit, or wake its poller.
func TestTeeRelayReadsOnlyItsInput(t *testing.T) {
	rt := startRelayed(t)
	relay := handOver(rt)
	read := func() int64 {
		t.Helper()
		// Quiet: every line sent has come back, and the process waits for
		// the next.
		deadline := time.Now().Add(20 * time.Second)
		for !readingFD(relay, 0) {
			if time.Now().After(deadline) {
				t.Fatal("the pass-through process never waited for input")
			}
			time.Sleep(time.Millisecond)
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", relay))
		if err != nil {
			t.Fatal(err)
		}
		r, _, ok := parseIO(b)
		if !ok {
			t.Fatalf("/proc/%d/io: %s", relay, b)
		}
		return r
	}
	before := read()
	var sent int64
	for start := time.Now(); time.Since(start) < 2500*time.Millisecond; {
		line := rt.Line(len(rt.Sent))
		rt.Send(line)
		sent += int64(len(line)) + 1
		time.Sleep(10 * time.Millisecond) // the pace of the stream
	}
	if got := read() - before; got != sent {
		t.Fatalf("the pass-through process read %d bytes; %d were sent", got, sent)
	}
	if code := rt.Finish(); code != 0 || rt.Stderr.Len() > 0 {
		t.Fatalf("exit %d; stderr: %s", code, rt.Stderr)
	}
}

// A pass-through process killed before it began, while it waited for its
// "go": tee either finds it gone before it hands over, and says nothing, or
// after, with nothing to take back, and says that nothing was lost.
func TestTeeRelayKilledBeforeItBegan(t *testing.T) {
	started := time.Now()
	rt := startRelayed(t, "--strict")
	// No input yet: tee waits in its read of stdin, and takes the process
	// over only at the read after.
	deadline := time.Now().Add(20 * time.Second)
	relay := relayOf(rt.Cmd.Process.Pid)
	for ; relay == 0 || !readingFD(relay, controlFD); relay = relayOf(rt.Cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("the pass-through process never waited for its go")
		}
		time.Sleep(time.Millisecond)
	}
	exited := waitForExit(t, relay)
	if err := syscall.Kill(relay, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !exited() {
		t.Fatalf("the pass-through process %d did not die", relay)
	}
	for i := range 20 {
		rt.Send(rt.Line(i))
	}
	if code := rt.Finish(); code != 0 {
		t.Fatalf("exit %d, want 0: %s", code, rt.Stderr)
	}
	if s := rt.Stderr.String(); s != "" && s != "convlog: warning: the pass-through process ended unexpectedly; convlog passed the rest of the input through itself, from the byte that process had reached: nothing was lost.\n" {
		t.Fatalf("stderr: %s", rt.Stderr)
	}
	rt.CheckLogged(started)
}
