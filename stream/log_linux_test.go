package stream

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMain lets the test binary double as a process that only burns CPU,
// for the test of a machine with no CPU to spare.
func TestMain(m *testing.M) {
	if os.Getenv("CONVLOG_TEST_SPIN") == "1" {
		os.Stdout.Write([]byte("spinning\n"))
		for {
		}
	}
	os.Exit(m.Run())
}

func policy(t *testing.T) uint32 {
	attr, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Errorf("sched_getattr: %v", err)
		return 0
	}
	return attr.Policy
}

// lastCommit is what a logger's last commit saw of its thread.
type lastCommit struct {
	policy   uint32
	tid      int  // the committing thread
	idleTID  int  // what IdleThread said
	idleLeft bool // and whether the logger had left it
}

// logLines runs a started logger over n lines and returns what its last
// commit saw. The logger leaves its thread of idle priority once that has
// waited for maxDelay/2.
func logLines(t *testing.T, n int, maxDelay time.Duration) lastCommit {
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, `{"type":"assistant","seq":%d}`+"\n", i)
	}
	r := &recorder{}
	var last lastCommit
	l := &Logger{Proc: NewProcessor(r), MaxDelay: maxDelay}
	l.Commit = func(*Facts) {
		last.policy, last.tid = policy(t), unix.Gettid()
		last.idleTID, last.idleLeft = l.IdleThread()
	}
	<-l.Start(chunked(in.String(), 64))
	if len(r.msgs) != n {
		t.Fatalf("logged %d of %d lines", len(r.msgs), n)
	}
	return last
}

// The logger works on a thread of idle priority. (So that the test holds on
// a busy machine too, the logger is told to put up with any wait.)
func TestLoggerRunsAtIdlePriority(t *testing.T) {
	got := logLines(t, 100, 24*time.Hour)
	if got.policy != unix.SCHED_IDLE {
		t.Fatalf("the logger committed on a thread of policy %d, want SCHED_IDLE (%d)", got.policy, unix.SCHED_IDLE)
	}
	if got.idleTID != got.tid || got.idleLeft {
		t.Fatalf("IdleThread said %d (left %v); the logger ran on thread %d", got.idleTID, got.idleLeft, got.tid)
	}
}

// When other processes keep every CPU busy, a thread of idle priority gets
// a turn only every second or two. The logger notices that it waited and
// finishes on an ordinary thread.
func TestLoggerLeavesAStarvedThread(t *testing.T) {
	for range runtime.NumCPU() + 1 {
		spin := exec.Command(os.Args[0], "-test.run=^$")
		spin.Env = append(os.Environ(), "CONVLOG_TEST_SPIN=1")
		out, err := spin.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := spin.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			spin.Process.Kill()
			spin.Wait()
		})
		// It says so once it spins.
		if _, err := out.Read(make([]byte, 1)); err != nil {
			t.Fatalf("the spinning process did not start: %v", err)
		}
	}
	got := logLines(t, 20000, 0)
	if got.policy != unix.SCHED_NORMAL {
		t.Fatalf("the logger committed on a thread of policy %d, want SCHED_NORMAL (%d) after leaving the idle one", got.policy, unix.SCHED_NORMAL)
	}
	if got.idleTID != 0 || !got.idleLeft {
		t.Fatalf("IdleThread said %d (left %v) after the logger left its idle thread", got.idleTID, got.idleLeft)
	}
}
