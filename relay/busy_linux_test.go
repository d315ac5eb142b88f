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
// waits for a CPU when it has none. tee hands over when that thread waited
// for over half of a span of at least busyCheck (or was kept off the CPU
// for offWindow); a session in which it waited for less than busyCheck/2 in
// all, from the start of the pass-through process on, must not have been
// handed over. One in which it waited longer proves nothing, and is run
// again.
func TestTeeStaysOneProcessWithCPUsToSpare(t *testing.T) {
	for range 10 {
		started := time.Now()
		rt := testkit.StartTee(t, nil)
		var (
			relay   int
			before  time.Duration
			waiting bool
		)
		deadline := time.Now().Add(20 * time.Second)
		// A quiet stream, for three times as long as tee waits before it
		// starts its pass-through process.
		for i := 0; i < 30 || relay == 0; i++ {
			if time.Now().After(deadline) {
				t.Fatal("tee never started its pass-through process")
			}
			rt.Send(rt.Line(i))
			time.Sleep(10 * time.Millisecond) // the pace of the stream
			if relay == 0 {
				if relay = relayOf(rt.Cmd.Process.Pid); relay != 0 {
					before, waiting = idleWait(rt.Cmd.Process.Pid)
				}
			}
		}
		// Waiting for its "go", or reading stdin: taken over.
		for !readingFD(relay, controlFD) && !readingFD(relay, 0) {
			if time.Now().After(deadline) {
				t.Fatal("the pass-through process never got ready")
			}
			time.Sleep(time.Millisecond)
		}
		took := readingFD(relay, 0)
		// Measured after, once the logger has logged every line: a wait
		// that made tee hand over has ended then, and the kernel counts a
		// wait when it ends.
		testkit.WaitForMessages(t, rt.Path, len(rt.Sent))
		after, ok := idleWait(rt.Cmd.Process.Pid)
		if code := rt.Finish(); code != 0 || rt.Stderr.Len() > 0 {
			t.Fatalf("exit %d; stderr: %s", code, rt.Stderr)
		}
		rt.CheckLogged(started)
		switch waited := after - before; {
		case !waiting || !ok:
			// Over 50 ms, once.
			t.Log("the logger left its thread of idle priority: the machine was busy; again")
		case waited < busyCheck/2:
			if took {
				t.Fatalf("tee handed over although its logger waited %v for a CPU in all", waited)
			}
			return
		default:
			t.Logf("the logger waited %v for a CPU: the machine was busy; again", waited)
		}
	}
	t.Fatal("the machine was busy through ten sessions")
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
