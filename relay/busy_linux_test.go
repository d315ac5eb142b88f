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
	// A process of its own, which nothing in this one can hold up.
	var spinner *exec.Cmd
	onCPU(t, cpu, func() {
		spinner = exec.Command("sh", "-c", "while :; do :; done")
		if err := spinner.Start(); err != nil {
			t.Fatal(err)
		}
	})
	stopSpinning := sync.OnceFunc(func() {
		spinner.Process.Kill()
		spinner.Wait()
	})
	defer stopSpinning()
	for range 20 {
		if starvedSession(t, cpu, stopSpinning) {
			return
		}
		t.Log("the logger left its thread of idle priority first; again")
	}
	t.Fatal("the logger left its thread of idle priority first in twenty sessions")
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
// waits for a CPU when it has none. This test watches that thread's waits
// through the session (spare), and a session in which no check of tee's
// could have found the machine busy must not have been handed over. One in
// which the thread waited longer proves nothing, and is run again.
func TestTeeStaysOneProcessWithCPUsToSpare(t *testing.T) {
	for range 30 {
		if quietSession(t) {
			return
		}
	}
	t.Fatal("the machine was busy through thirty sessions")
}

// quietSession runs one session for TestTeeStaysOneProcessWithCPUsToSpare,
// and reports whether the machine had CPUs to spare throughout; if it had,
// it checks that tee did not hand over.
func quietSession(t *testing.T) bool {
	started := time.Now()
	rt := testkit.StartTee(t, nil)
	pid := rt.Cmd.Process.Pid
	deadline := time.Now().Add(20 * time.Second)
	var (
		relay, tid int
		samples    = make(chan []waitSample, 1)
		stop       = make(chan struct{})
	)
	// The logger's thread, watched from before the pass-through process
	// starts.
	rt.Send(rt.Line(0))
	for tid = idleThread(pid); tid == 0; tid = idleThread(pid) {
		if time.Now().After(deadline) {
			t.Fatal("tee's logger has no thread of idle priority")
		}
		time.Sleep(time.Millisecond)
	}
	go func() { samples <- sampleWaits(pid, tid, stop) }()
	// A quiet stream, for three times as long as tee waits before it
	// starts its pass-through process.
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
	took := readingFD(relay, 0)
	// Once the logger has logged every line, a wait that made tee hand
	// over has ended: the kernel counts a wait when it ends.
	testkit.WaitForMessages(t, rt.Path, len(rt.Sent))
	close(stop)
	waits := <-samples
	if code := rt.Finish(); code != 0 || rt.Stderr.Len() > 0 {
		t.Fatalf("exit %d; stderr: %s", code, rt.Stderr)
	}
	rt.CheckLogged(started)
	if why := spare(waits); why != "" {
		t.Logf("%s: the machine was busy; again", why)
		return false
	}
	if took {
		t.Fatalf("tee handed over although its logger never waited for a CPU for over %v in %v", busyCheck/2, busyCheck)
	}
	return true
}

// waitSample is how long a thread had waited for a CPU in all, and when.
type waitSample struct {
	at     time.Time
	waited time.Duration
	gone   bool // the thread has ended
}

// sampleWaits samples the waits of thread tid of process pid every
// millisecond until stop closes, and once more then.
func sampleWaits(pid, tid int, stop <-chan struct{}) []waitSample {
	var all []waitSample
	for {
		s := waitSample{at: time.Now()}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
		if f := strings.Fields(string(b)); err == nil && len(f) > 1 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			s.waited = time.Duration(ns)
		} else {
			s.gone = true
		}
		all = append(all, s)
		select {
		case <-stop:
			return append(all, waitSample{at: time.Now(), waited: s.waited, gone: s.gone})
		case <-time.After(time.Millisecond):
		}
	}
}

// spare says why the machine may have been busy, by tee's rules
// (busyMachine), over the samples; "" if it cannot have been.
//
// A check of tee's over a span of L ≥ busyCheck counts the waits that ended
// in it. Take the samples i and j that enclose the span most closely: the
// waits that ended between them are at least as many, and L is longer than
// S, from the sample after i to the sample before j. If no two samples have
// more waits ending between them than max(S, busyCheck)/2, no span had
// more than half its length. A wait that had not ended at a check, and had
// lasted for offWindow (busyMachine's other rule), ended before the last
// sample, and counts in one.
func spare(samples []waitSample) string {
	if len(samples) < 2 {
		return "no samples"
	}
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
			waited := samples[j].waited - samples[i].waited
			if waited > max(inner, busyCheck)/2 {
				return fmt.Sprintf("the logger waited %v for a CPU within %v", waited, samples[j].at.Sub(samples[i].at))
			}
		}
	}
	return ""
}

// idleThread is the thread of idle priority of process pid, or 0.
func idleThread(pid int) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if attr, err := unix.SchedGetAttr(tid, 0); err == nil && attr.Policy == unix.SCHED_IDLE {
			return tid
		}
	}
	return 0
}

// idleWait is how long the thread of idle priority of process pid has
// waited for a CPU in all.
func idleWait(pid int) (time.Duration, bool) {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil || attr.Policy != unix.SCHED_IDLE {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
		f := strings.Fields(string(b))
		if err != nil || len(f) < 2 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		return time.Duration(ns), err == nil
	}
	return 0, false
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
