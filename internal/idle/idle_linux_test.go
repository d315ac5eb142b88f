package idle

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Thread makes the thread SCHED_IDLE, and reports it starved only after it
// has waited for longer than the limit.
func TestThread(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	done := make(chan string)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		starved := Thread("idle-test", time.Hour)
		attr, err := unix.SchedGetAttr(0, 0)
		comm, _ := os.ReadFile("/proc/thread-self/comm")
		switch {
		case starved == nil:
			done <- "Thread failed"
		case err != nil:
			done <- "sched_getattr: " + err.Error()
		case attr.Policy != unix.SCHED_IDLE:
			done <- "the thread is not SCHED_IDLE"
		case starved():
			done <- "starved before any waiting"
		case string(comm) != "idle-test\n":
			done <- fmt.Sprintf("the thread is named %q, want idle-test", comm)
		default:
			done <- ""
		}
	}()
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
	if got := runtime.GOMAXPROCS(0); got != procs+1 {
		t.Fatalf("GOMAXPROCS is %d, want %d: a starved idle thread would hold one of the others' Ps", got, procs+1)
	}
	// The test's own thread is untouched.
	if attr, err := unix.SchedGetAttr(0, 0); err != nil || attr.Policy != unix.SCHED_NORMAL {
		t.Fatalf("the calling thread's policy changed: %+v %v", attr, err)
	}
}
