//go:build linux

package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/convlog/convlog/stream"
)

// When a process of its own takes over the pass-through (stream.Handover
// says why): it is started once the session has run for handoverAfter, and
// takes over at the first check, every busyCheck, that finds the logger's
// thread of idle priority kept waiting for a CPU for over half the time
// since the last one, or moved to an ordinary thread. That is a machine with
// no CPU to spare, where a garbage collection of tee's could hold up the
// pass-through. On a machine with CPUs to spare, tee goes on passing the
// input through itself: the extra hop through a second process cost 10 KB
// lines at 1/ms 0–19% in p99 latency there (the medians of four sets of 16
// interleaved runs, against one process).
// CONVLOG_HANDOVER=never keeps tee one process; a duration hands over after
// that long whatever the machine is doing.
const (
	handoverAfter = 100 * time.Millisecond
	busyCheck     = 20 * time.Millisecond
	starvedFor    = 200 * time.Millisecond // see watchStarved
)

// The pass-through process is this binary run as `convlog tee --relay`. It
// inherits stdin and stdout (see forRelay), a pipe for its stderr that tee
// reads and counts, and three more: it sends the relay stream on fd 3,
// waits for the byte that says "go" on fd 4, and reads the input into the
// shared memory on fd 5 (ring).
const (
	relayFD   = 3
	controlFD = 4
	memFD     = 5
)

// The largest read of the pass-through process, and how far the logger may
// fall behind it when starved (passer.MaxStarved): the shared memory is
// sized for both, and only the pages used cost memory.
const (
	relayBufSize = 256 << 10
	relayStarved = 64 << 20
)

// Process is what Start needs to start the pass-through process.
type Process struct {
	Exe     string   // this binary (SelfExe)
	In, Out *os.File // tee's stdin and stdout, which the process inherits
	Stderr  io.Writer
	// Setting is CONVLOG_HANDOVER: "never" keeps tee one process; a
	// duration hands over after that long whatever the machine is doing.
	Setting string
}

// Start starts the pass-through process when it is time (see
// handoverAfter) and offers it to h once it is ready. The returned stop, to
// be called once the input is done, cancels what has not happened yet; a
// process that has not been handed over to ends when its fd 4 closes.
// Nothing here ever holds up tee: if the process cannot be started, tee goes
// on passing the input through itself.
//
// tee stays one process unless its stdin is a pipe: a process reading from
// one can be taken over from exactly where it stopped (takeBack).
func Start(p Process, h *Handover, logger *stream.Logger) (stop func()) {
	delay, always := handoverAfter, false
	switch setting := p.Setting; setting {
	case "never":
		return func() {}
	default:
		if d, err := time.ParseDuration(setting); err == nil {
			delay, always = d, true
		}
	}
	var (
		mu      sync.Mutex
		stopped bool
		control *controlPipe
		handed  *child // offered to h
		quit    = make(chan struct{})
	)
	go func() {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-quit:
			return
		}
		// The kernel sends Pdeathsig when the thread that started the
		// child ends, not the process: the thread is kept, locked to this
		// goroutine, until the child is reaped. The child must not outlive
		// tee, or a killed tee would leave a pass-through running.
		runtime.LockOSThread()
		c, err := startChild(p, &mu, &stopped)
		if err != nil {
			return
		}
		defer c.close()
		mu.Lock()
		control = c.control
		if stopped {
			control.Close()
		}
		mu.Unlock()
		if c.readHello() != nil {
			// Not to be handed over to: it ends when its fd 4 closes.
			c.control.Close()
			c.wait()
			return
		}
		// Started and ready, the process waits for the machine to be
		// busy: a process that starts then takes as long again, and the
		// pass-through stays exposed meanwhile.
		if !always && !waitUntilBusy(logger, quit) {
			c.wait() // it ends when stop closes its fd 4
			return
		}
		c.offered = true
		mu.Lock()
		handed = c
		mu.Unlock()
		h.offerRelay(c.src.rr, c.control, c)
		go watchStarved(logger, h, c.control, quit)
		c.wait()
	}()
	return sync.OnceFunc(func() {
		close(quit)
		mu.Lock()
		stopped = true
		if control != nil {
			control.Close()
		}
		c := handed
		mu.Unlock()
		if c != nil {
			// What the process says as it ends (it ends with the input)
			// reaches stderr through tee, which must not exit first.
			select {
			case <-c.stderr.done:
			case <-time.After(time.Second):
			}
		}
	})
}

// waitUntilBusy waits until busyMachine says so (true), or quit closes.
func waitUntilBusy(logger *stream.Logger, quit <-chan struct{}) bool {
	tick := time.NewTicker(busyCheck)
	defer tick.Stop()
	for busy := busyMachine(logger); !busy(); {
		select {
		case <-tick.C:
		case <-quit:
			return false
		}
	}
	return true
}

// busyMachine returns what reports, each time it is asked, whether the
// logger's thread of idle priority waited for a CPU for over half the time
// since the last time, or was kept off the CPU over the last offWindow (see
// starvation), or has left for an ordinary thread. A span shorter than
// busyCheck (a check that came late, and the next one at once) is added to
// the next: a millisecond's wait says nothing of the machine.
func busyMachine(logger *stream.Logger) func() bool {
	var (
		last   time.Time
		waited time.Duration
		tid    int
		off    = starvation{window: offWindow}
	)
	return func() bool {
		t, left := logger.IdleThread()
		if left {
			return true
		}
		if t == 0 {
			return false
		}
		now := time.Now()
		if !last.IsZero() && now.Sub(last) < busyCheck {
			return false
		}
		if t != tid {
			tid, off = t, starvation{window: offWindow}
		}
		th, ok := threadNow(tid, now)
		busy := ok && !last.IsZero() && th.waited-waited > now.Sub(last)/2
		if ok && off.add(th) {
			busy = true
		}
		last, waited = now, th.waited
		return busy
	}
}

// offWindow is how long busyMachine looks back for a thread kept off the
// CPU in a wait that has not ended.
const offWindow = 5 * busyCheck

// watchStarved tells the pass-through process, once it has taken over, when
// the logger is starved, not merely busy: still on its thread of idle
// priority, and kept off the CPU over the last starvedFor (see
// starvation). Until the logger moves to an ordinary thread, the process
// holds more for it (stream.Relay.MaxStarved).
//
// A logger busy with a fast stream runs most of the time. It can be kept off
// the CPU for a moment, by the pass-through process and its writer reading
// ahead, but that stops when the process's usual room is full. When one
// 20 ms spell was enough, the two processes' peaks on the 1 GB stream added
// up to 117 MiB, against 91 MiB. A starved thread of idle priority still
// gets a slice now and then, so the test is over the whole span, not at
// every check.
func watchStarved(logger *stream.Logger, h *Handover, control io.Writer, quit <-chan struct{}) {
	tick := time.NewTicker(busyCheck)
	defer tick.Stop()
	var (
		said bool // 'M' was the last word
		tid  int
		s    starvation
	)
	for {
		select {
		case <-tick.C:
		case <-quit:
			return
		}
		if !h.HandedOver() {
			continue
		}
		starved := false
		if t, left := logger.IdleThread(); t > 0 && !left {
			if t != tid {
				tid, s = t, starvation{window: starvedFor}
			}
			if th, ok := threadNow(tid, time.Now()); ok {
				starved = s.add(th)
			}
		}
		if starved != said {
			msg := []byte{'L'}
			if starved {
				msg[0] = 'M'
			}
			if _, err := control.Write(msg); err != nil {
				return
			}
			said = starved
		}
	}
}

// starvation keeps a thread's times over the last window.
type starvation struct {
	window time.Duration
	recent []threadTimes
}

type threadTimes struct {
	at          time.Time
	ran, waited time.Duration // in all, from its schedstat
	slices      int64         // times it got a CPU, from the same
	ready       bool          // running, or waiting for a CPU, when looked at
}

// threadNow reads the times and the state of thread tid of this process.
func threadNow(tid int, at time.Time) (threadTimes, bool) {
	task := "/proc/self/task/" + strconv.Itoa(tid)
	b, err := os.ReadFile(task + "/schedstat")
	f := bytes.Fields(b)
	if err != nil || len(f) < 3 {
		return threadTimes{}, false
	}
	var n [3]int64
	for i := range n {
		if n[i], err = strconv.ParseInt(string(f[i]), 10, 64); err != nil {
			return threadTimes{}, false
		}
	}
	b, err = os.ReadFile(task + "/stat")
	// "tid (name) state …": the name may hold anything but the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 || i+2 >= len(b) {
		return threadTimes{}, false
	}
	return threadTimes{at: at, ran: time.Duration(n[0]), waited: time.Duration(n[1]), slices: n[2], ready: b[i+2] == 'R'}, true
}

// add takes the thread's times at a check and reports whether, over the
// last window, it ran for less than a tenth of the time and waited for a
// CPU for over half of it.
//
// The kernel adds a wait to the thread's figure only when it ends, once
// the thread gets a CPU: a thread of idle priority on a machine with no CPU
// to spare can wait a second or more with none of it counted yet. A thread
// that was ready to run at the start of the window and at its end, got no
// CPU in between and so ran for none of it, was waiting all along.
func (s *starvation) add(now threadTimes) bool {
	for len(s.recent) > 1 && now.at.Sub(s.recent[1].at) >= s.window {
		s.recent = s.recent[1:]
	}
	starved := false
	if len(s.recent) > 0 {
		first := s.recent[0]
		span := now.at.Sub(first.at)
		waiting := first.ready && now.ready && now.slices == first.slices
		starved = span >= s.window && now.ran-first.ran < span/10 && (now.waited-first.waited > span/2 || waiting)
	}
	s.recent = append(s.recent, now)
	return starved
}

// ErrByHand is what Main returns when it was not started by Start.
var ErrByHand = errors.New("tee --relay is the pass-through process of another convlog tee, not for use by hand")

// Main is `convlog tee --relay`: the pass-through process. stallLimit is
// how long it waits for a logger that does not take its input (zero: the
// default).
//
// From its hello on, it does no I/O but the relay's: reads of stdin and of
// fd 4, writes to stdout, fd 3 and stderr, each of which tee can count, so
// that the kernel's totals of its I/O say exactly how far it got (takeBack).
func Main(stderr io.Writer, stallLimit time.Duration) error {
	// Signals are tee's to handle: Ctrl-C reaches the whole process group,
	// and tee decides when the session ends. This process ends with the
	// input, or with tee (Pdeathsig).
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE, syscall.SIGXFSZ)
	var st unix.Stat_t
	if err := unix.Fstat(relayFD, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return fmt.Errorf("%w: fd %d is not a pipe", ErrByHand, relayFD)
	}
	var (
		mem []byte
		err error
	)
	if err = unix.Fstat(memFD, &st); err == nil {
		mem, err = unix.Mmap(memFD, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	}
	h := helloInfo{BufSize: relayBufSize}
	if err == nil {
		h.Exact = ownIOOnly()
		h.Read, h.Written, err = selfIO()
	}
	if err != nil {
		h.Exact = false
	}
	helloLen, err := writeHello(relayFD, h)
	if err != nil {
		return fmt.Errorf("%w: fd %d: %v", ErrByHand, relayFD, err)
	}
	var b [1]byte
	if n, _ := syscall.Read(controlFD, b[:]); n != 1 || b[0] != 'G' || mem == nil {
		return nil // the session ended before the handover
	}
	warn := func(format string, args ...any) {
		fmt.Fprintf(stderr, "convlog: warning: "+format+"\n", args...)
	}
	r := &passer{In: 0, Out: 1, Log: relayFD, Control: controlFD, StallLimit: stallLimit,
		BufSize: relayBufSize, MaxStarved: relayStarved, Mem: mem, Start: int64(helloLen),
		OutErr: func(err error) {
			warn("writing to stdout: %v; the rest of the input is logged but not passed on.", err)
		},
	}
	if err := r.Run(); err != nil {
		warn("reading stdin: %v; the session ends here.", err)
	}
	if r.SkippedRuns > 0 {
		warn("the session file could not keep up (blocked for over %s); some input was passed through but not logged.", r.StallLimit)
	}
	return nil
}

// selfIO reads the totals of this process's I/O: bytes passed to read(2)
// and write(2), and the like, so far, the read of them included.
func selfIO() (rchar, wchar int64, err error) {
	fd, err := unix.Open("/proc/self/io", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	var (
		buf [512]byte
		got int
	)
	for {
		n, err := unix.Read(fd, buf[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		if n <= 0 || got+n == len(buf) {
			got += max(n, 0)
			break
		}
		got += n
	}
	r, w, ok := parseIO(buf[:got])
	if !ok {
		return 0, 0, errors.New("relay: /proc/self/io unreadable")
	}
	// The file's figures are from before the read of it.
	return r + int64(got), w, nil
}

// ownIOOnly reports whether nothing in this process will read or write
// on its own: the runtime would, if it polled a descriptor (its poller
// wakes itself with an eventfd) or rechecked the CPU limit of its cgroup
// every second (tee sets GODEBUG=updatemaxprocs=0 for it).
func ownIOOnly() bool {
	if !updatesOff(os.Getenv("GODEBUG")) {
		return false
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if l, _ := os.Readlink("/proc/self/fd/" + fd.Name()); strings.HasPrefix(l, "anon_inode:[event") {
			return false
		}
	}
	return true
}

// updatesOff reports whether godebug, the GODEBUG variable, turns the
// runtime's updates of GOMAXPROCS off: its last setting of them wins.
func updatesOff(godebug string) bool {
	off := false
	for _, kv := range strings.Split(godebug, ",") {
		if k, v, _ := strings.Cut(kv, "="); k == "updatemaxprocs" {
			off = v == "0"
		}
	}
	return off
}

// SelfExe names this very binary, even if its file has been replaced or
// removed since it started (an upgrade during a long session).
func SelfExe() string {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return ""
	}
	return "/proc/self/exe"
}
