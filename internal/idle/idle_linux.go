// Package idle runs background work on threads of idle priority, so that it
// only uses a CPU that nothing else wants, and tells the work when such a
// thread is kept waiting too long to be of use.
package idle

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Thread gives the calling goroutine's thread idle priority (SCHED_IDLE).
// The caller must have locked the goroutine to its thread and must never
// unlock it: the thread would go back to the runtime's pool, where it could
// run anything, and an unprivileged thread cannot be given its priority back.
// It ends with the goroutine instead.
//
// Thread returns a function that reports whether the thread has waited for
// a CPU for more than limit in all since it last asked (it looks at most
// every 10 ms); on a machine with no CPU to spare, a thread of idle priority
// gets a turn only every second or two, and the work should then go on on
// an ordinary thread. Thread returns nil, with the thread unchanged, if it
// cannot do either.
//
// It also raises GOMAXPROCS by one: a thread that the kernel keeps waiting
// still holds its P, and other goroutines must not wait for a P behind it.
//
// The thread is named name (at most 15 bytes, as top -H and
// /proc/<pid>/task/<tid>/comm show it), so that it can be told apart from
// the process's other threads of idle priority.
func Thread(name string, limit time.Duration) (starved func() bool) {
	// The kernel's own count of the time this thread spent runnable but
	// not running; /proc/thread-self names the thread that opens it.
	f, err := os.Open("/proc/thread-self/schedstat")
	if err != nil {
		return nil
	}
	buf := make([]byte, 96)
	waited := func() (time.Duration, bool) {
		n, err := f.ReadAt(buf, 0)
		if n == 0 && err != nil {
			return 0, false
		}
		_, w, ok := parse(buf[:n])
		return w, ok
	}
	before, ok := waited()
	if !ok {
		f.Close()
		return nil
	}
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
	if unix.SchedSetAttr(0, &attr, 0) != nil {
		f.Close()
		return nil
	}
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	if p, err := unix.BytePtrFromString(name); err == nil {
		unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0)
		runtime.KeepAlive(p)
	}
	last := time.Now()
	return func() bool {
		if f == nil {
			return true
		}
		t := time.Now()
		if t.Sub(last) < 10*time.Millisecond {
			return false
		}
		last = t
		now, ok := waited()
		if ok && now-before <= limit {
			before = now
			return false
		}
		// Starved, or no longer able to tell: either way, time to leave.
		f.Close()
		f = nil
		return true
	}
}

// ThreadID is the calling thread's id, for Waited.
func ThreadID() int { return unix.Gettid() }

// Waited is how long in all the thread tid of this process has waited for
// a CPU while ready to run. Any goroutine may ask about any thread.
func Waited(tid int) (time.Duration, bool) {
	_, waited, ok := Times(tid)
	return waited, ok
}

// Times is how long in all the thread tid of this process has run on a CPU,
// and waited for one while ready to run.
func Times(tid int) (ran, waited time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/schedstat")
	if err != nil {
		return 0, 0, false
	}
	return parse(b)
}

// parse reads a schedstat file:
// "<ns on the CPU> <ns waiting for a CPU> <time slices>".
func parse(schedstat []byte) (ran, waited time.Duration, ok bool) {
	fields := bytes.Fields(schedstat)
	if len(fields) < 2 {
		return 0, 0, false
	}
	r, err1 := strconv.ParseInt(string(fields[0]), 10, 64)
	w, err2 := strconv.ParseInt(string(fields[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return time.Duration(r), time.Duration(w), true
}
