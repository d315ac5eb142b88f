package relay

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/stream"
)

// On a machine with no CPU to spare, tee hands the pass-through over by
// itself, and tells its pass-through process that the logger is starved
// ('M'), so that the process holds more for it. tee runs on one CPU here,
// kept busy by this test, and its logger, on a thread of idle priority, is
// kept waiting for it.
//
// Whether the logger is starved long enough to be told of is the kernel's
// choice: given a turn after a wait of over 50 ms, the logger moves to an
// ordinary thread, and then there is nothing to say. A session in which it
// stayed on its thread of idle priority without tee saying 'M' fails; one
// in which it left first proves nothing, and is run again.
func TestTeeHandsOverOnABusyMachine(t *testing.T) {
	cpu := oneCPU(t)
	// Processes of their own, which nothing in this one can hold up.
	// Four: the kernel gives a thread of idle priority a turn after the
	// ordinary ones have run for a while, longer the more there are; with
	// one spinner the logger got a turn (and left) before tee could tell
	// in three sessions of four, and in all twenty of a run now and then.
	var spinners []*exec.Cmd
	onCPU(t, cpu, func() {
		for range 4 {
			spinner := exec.Command("sh", "-c", "while :; do :; done")
			if err := spinner.Start(); err != nil {
				t.Fatal(err)
			}
			spinners = append(spinners, spinner)
		}
	})
	stopSpinning := sync.OnceFunc(func() {
		for _, spinner := range spinners {
			spinner.Process.Kill()
			spinner.Wait()
		}
	})
	defer stopSpinning()
	for range 30 {
		if starvedSession(t, cpu, stopSpinning) {
			return
		}
		t.Log("the logger left its thread of idle priority first; again")
	}
	t.Fatal("the logger left its thread of idle priority first in thirty sessions")
}

// starvedSession runs one session for TestTeeHandsOverOnABusyMachine, and
// reports whether tee said 'M'; false if its logger left its thread of
// idle priority first.
func starvedSession(t *testing.T, cpu int, stopSpinning func()) bool {
	started := time.Now()
	rt := startPinned(t, cpu, nil)
	relay := handOver(rt)
	// A line a millisecond, so that the logger always has work waiting:
	// a thread that sleeps is not starved.
	sent := make(chan []byte, 1)
	stopWriting := make(chan struct{})
	go func() {
		var all []byte
		defer func() { sent <- all }()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := len(rt.Sent); ; i++ {
			select {
			case <-stopWriting:
				return
			case <-tick.C:
			}
			line := rt.Line(i)
			if _, err := io.WriteString(rt.Stdin, line+"\n"); err != nil {
				return
			}
			rt.Sent = append(rt.Sent, []byte(line))
			all = append(all, line+"\n"...)
		}
	}()
	out := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(rt.Stdout)
		out <- b
	}()
	// The word waits on the process's fd 4 until the process needs it.
	deadline := time.Now().Add(20 * time.Second)
	word, said := wordSaid(t, relay)
	for ; !said; word, said = wordSaid(t, relay) {
		if _, ok := idleWait(rt.Cmd.Process.Pid); !ok {
			break // left
		}
		if time.Now().After(deadline) {
			t.Fatal("tee never said that its logger is starved")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stopWriting)
	input := <-sent
	rt.Stdin.Close()
	if said {
		stopSpinning()
	}
	if said && word != 'M' {
		t.Fatalf("tee said %q to its pass-through process, want 'M' (starved)", word)
	}
	if got := <-out; !bytes.Equal(got, input) {
		t.Fatalf("stdout has %d bytes, input %d", len(got), len(input))
	}
	if code := testkit.ExitCode(rt.Cmd.Wait()); code != 0 || rt.Stderr.Len() > 0 {
		t.Fatalf("exit %d; stderr: %s", code, rt.Stderr)
	}
	rt.CheckLogged(started)
	return said
}

// On a machine with CPUs to spare, tee stays one process: the pass-through
// process is started, and waits unused. A handover costs latency there.
//
// Whether a machine shared with other work has CPUs to spare at a given
// moment is for its scheduler to say: the logger's thread of idle priority
// waits for a CPU when it has none. This test watches that thread through
// each session (cause). A session that tee hands over although no check of
// its could have found the machine busy by then fails; one that it does
// not hand over passes. One handed over for cause proves nothing, and is
// run again; if every session is, each handover had its cause, and that is
// all a machine this busy can show.
func TestTeeStaysOneProcessWithCPUsToSpare(t *testing.T) {
	for range 20 {
		cause, handed := quietSession(t)
		if !handed {
			return
		}
		t.Logf("tee handed over, for cause: %s; again", cause)
	}
	t.Log("the machine was busy in every session")
}

// quietSession runs one session for TestTeeStaysOneProcessWithCPUsToSpare
// and reports whether tee handed over, and why; it fails the test if tee
// did so without cause.
func quietSession(t *testing.T) (cause string, handed bool) {
	started := time.Now()
	rt := testkit.StartTee(t, nil)
	pid := rt.Cmd.Process.Pid
	deadline := time.Now().Add(20 * time.Second)
	// The logger's thread, watched from before the pass-through process
	// starts.
	rt.Send(rt.Line(0))
	tid := idleThread(pid)
	for ; tid == 0; tid = idleThread(pid) {
		if time.Now().After(deadline) {
			t.Fatal("tee's logger has no thread of idle priority")
		}
		time.Sleep(time.Millisecond)
	}
	samples := make(chan []threadSample, 1)
	stop := make(chan struct{})
	go func() { samples <- sampleThread(pid, tid, stop) }()
	// A quiet stream, for three times as long as tee waits before it
	// starts its pass-through process.
	relay := 0
	for i := 1; i < 30 || relay == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatal("tee never started its pass-through process")
		}
		rt.Send(rt.Line(i))
		time.Sleep(10 * time.Millisecond) // the pace of the stream
		relay = relayOf(pid)
	}
	// Waiting for its "go", or reading stdin: taken over.
	for !readingFD(relay, controlFD) && !readingFD(relay, 0) {
		if time.Now().After(deadline) {
			t.Fatal("the pass-through process never got ready")
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	seen := <-samples
	if code := rt.Finish(); code != 0 || rt.Stderr.Len() > 0 {
		t.Fatalf("exit %d; stderr: %s", code, rt.Stderr)
	}
	rt.CheckLogged(started)
	for i, s := range seen {
		if s.handed {
			if cause = busyBy(seen[:i+1]); cause == "" {
				t.Fatalf("tee handed over %v into the session, although no check of its could have found the machine busy", s.at.Sub(started))
			}
			return cause, true
		}
	}
	return "", false
}

// threadSample is what a thread's schedstat and state said, and when; and
// whether the pass-through process had taken over by then.
type threadSample struct {
	at     time.Time
	waited time.Duration // in all
	slices int64         // times it got a CPU
	ready  bool          // running, or waiting for a CPU
	gone   bool          // the thread has ended
	handed bool
}

// sampleThread samples thread tid of process pid every millisecond until
// stop closes, and once more then.
func sampleThread(pid, tid int, stop <-chan struct{}) []threadSample {
	var (
		all   []threadSample
		relay int
	)
	for {
		s := threadSample{at: time.Now()}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
		st, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
		if f := strings.Fields(string(b)); err == nil && err2 == nil && len(f) > 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			s.waited = time.Duration(ns)
			s.slices, _ = strconv.ParseInt(f[2], 10, 64)
			i := strings.LastIndexByte(string(st), ')')
			s.ready = i > 0 && i+2 < len(st) && st[i+2] == 'R'
		} else {
			s.gone = true
		}
		if relay == 0 {
			relay = relayOf(pid)
		}
		s.handed = relay != 0 && readingFD(relay, 0)
		all = append(all, s)
		select {
		case <-stop:
			return all
		case <-time.After(time.Millisecond):
		}
	}
}

// busyBy says why tee may have found the machine busy (busyMachine) over the
// samples; "" if no check of its can have.
//
// A check over a span of L ≥ busyCheck counts the waits that ended in it.
// Take the samples i and j that enclose the span most closely: the waits
// that ended between them are at least as many, and L is longer than S,
// from the sample after i to the sample before j. If no two samples have
// more waits ending between them than max(S, busyCheck)/2, no span had
// more than half its length. A thread kept waiting for offWindow at a check
// without a CPU (busyMachine's other rule) is seen ready, with no turn,
// over more than half of that. To be sure to fail no session wrongly, all
// is taken as a cause that may be one.
func busyBy(samples []threadSample) string {
	for _, s := range samples {
		if s.gone {
			return "the logger left its thread of idle priority"
		}
	}
	for i := range samples {
		for j := i + 1; j < len(samples); j++ {
			var inner time.Duration
			if j-1 > i+1 {
				inner = samples[j-1].at.Sub(samples[i+1].at)
			}
			span := samples[j].at.Sub(samples[i].at)
			if waited := samples[j].waited - samples[i].waited; waited > max(inner, busyCheck)/2 {
				return fmt.Sprintf("the logger waited %v for a CPU within %v", waited, span)
			}
			if samples[i].ready && samples[j].ready && samples[i].slices == samples[j].slices && span >= offWindow/2 {
				return fmt.Sprintf("the logger waited for a CPU for at least %v", span)
			}
		}
	}
	return ""
}

// idleThread is the logger's thread of idle priority in process pid, or 0.
// (The thread that writes the session file is of idle priority too.)
func idleThread(pid int) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if isLogger(pid, tid) {
			return tid
		}
	}
	return 0
}

// isLogger says whether thread tid of process pid is the logger's thread
// of idle priority.
func isLogger(pid, tid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", pid, tid))
	if err != nil || strings.TrimSpace(string(comm)) != stream.LoggerThread {
		return false
	}
	attr, err := unix.SchedGetAttr(tid, 0)
	return err == nil && attr.Policy == unix.SCHED_IDLE
}

// idleWait is how long the logger's thread of idle priority in process pid
// has waited for a CPU in all; false once there is none.
func idleWait(pid int) (time.Duration, bool) {
	tid := idleThread(pid)
	if tid == 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
	f := strings.Fields(string(b))
	if err != nil || len(f) < 2 {
		return 0, false
	}
	ns, err := strconv.ParseInt(f[1], 10, 64)
	return time.Duration(ns), err == nil
}

// oneCPU is a CPU this test may run on.
func oneCPU(t *testing.T) int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	for cpu := range 1024 {
		if set.IsSet(cpu) {
			return cpu
		}
	}
	t.Fatal("no CPU")
	return 0
}

// onCPU runs fn on a thread kept on cpu alone: the processes it starts, and
// their threads, inherit that.
func onCPU(t *testing.T, cpu int, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var was, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		t.Fatal(err)
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &was)
	fn()
}

// startPinned starts tee on cpu alone.
func startPinned(t *testing.T, cpu int, env []string, args ...string) (rt *testkit.Tee) {
	t.Helper()
	onCPU(t, cpu, func() { rt = testkit.StartTee(t, env, args...) })
	return rt
}
