//go:build linux

package relay

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/convlog/convlog/internal/idle"
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
// inherits stdin, stdout and stderr, and two pipes: it sends the relay stream
// on fd 3, and waits for the byte that says "go" on fd 4.
const (
	relayFD   = 3
	controlFD = 4
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
		control *os.File // the write end of the process's fd 4
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
		relayR, relayW, err := os.Pipe()
		if err != nil {
			return
		}
		controlR, controlW, err := os.Pipe()
		if err != nil {
			relayR.Close()
			relayW.Close()
			return
		}
		cmd := exec.Command(p.Exe, "tee", "--relay")
		cmd.Args[0] = "convlog" // for ps, rather than /proc/self/exe
		cmd.Stdin, cmd.Stdout, cmd.Stderr = p.In, p.Out, p.Stderr
		cmd.ExtraFiles = []*os.File{relayW, controlR}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		mu.Lock()
		started := false
		if !stopped {
			err = cmd.Start()
			started = err == nil
			control = controlW
		}
		mu.Unlock()
		relayW.Close()
		controlR.Close()
		if !started {
			relayR.Close()
			controlW.Close()
			return
		}
		stream.GrowPipe(relayR)
		relay := newRelayReader(relayR)
		if relay.readHello() != nil {
			relayR.Close()
			cmd.Wait()
			return
		}
		// Started and ready, the process waits for the machine to be
		// busy: a process that starts then takes as long again, and the
		// pass-through stays exposed meanwhile.
		if !always && !waitUntilBusy(logger, quit) {
			cmd.Wait() // it ends when stop closes its fd 4
			return
		}
		// relayR is the Handover's from now on, to read to its end after
		// the process has gone; it is closed with tee.
		h.offerRelay(relay, controlW)
		go watchStarved(logger, h, controlW, quit)
		cmd.Wait()
	}()
	return sync.OnceFunc(func() {
		close(quit)
		mu.Lock()
		stopped = true
		if control != nil {
			control.Close()
		}
		mu.Unlock()
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
// since the last time, or has left for an ordinary thread.
func busyMachine(logger *stream.Logger) func() bool {
	var (
		last   time.Time
		waited time.Duration
	)
	return func() bool {
		tid, left := logger.IdleThread()
		if left {
			return true
		}
		if tid == 0 {
			return false
		}
		w, ok := idle.Waited(tid)
		now := time.Now()
		busy := ok && !last.IsZero() && w-waited > now.Sub(last)/2
		last, waited = now, w
		return busy
	}
}

// watchStarved tells the pass-through process, once it has taken over, when
// the logger is starved, not merely busy: still on its thread of idle
// priority, and kept off the CPU over the last starvedFor (it ran for less
// than a tenth of that time and waited for over half of it). Until the
// logger moves to an ordinary thread, the process holds more for it
// (stream.Relay.MaxStarved).
//
// A logger busy with a fast stream runs most of the time. It can be kept off
// the CPU for a moment, by the pass-through process and its writer reading
// ahead, but that stops when the process's usual room is full. When one
// 20 ms spell was enough, the two processes' peaks on the 1 GB stream added
// up to 117 MiB, against 91 MiB. A starved thread of idle priority still
// gets a slice now and then, so the test is over the whole span, not at
// every check.
func watchStarved(logger *stream.Logger, h *Handover, control *os.File, quit <-chan struct{}) {
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
				tid, s = t, starvation{}
			}
			if ran, waited, ok := idle.Times(tid); ok {
				starved = s.add(time.Now(), ran, waited)
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

// starvation keeps a thread's times over the last starvedFor.
type starvation struct {
	recent []threadTimes
}

type threadTimes struct {
	at          time.Time
	ran, waited time.Duration // in all, from its schedstat
}

// add takes the thread's times at a check and reports whether, over the
// last starvedFor, it ran for less than a tenth of the time and waited for
// a CPU for over half of it.
func (s *starvation) add(at time.Time, ran, waited time.Duration) bool {
	now := threadTimes{at, ran, waited}
	for len(s.recent) > 1 && at.Sub(s.recent[1].at) >= starvedFor {
		s.recent = s.recent[1:]
	}
	starved := false
	if len(s.recent) > 0 {
		first := s.recent[0]
		span := at.Sub(first.at)
		starved = span >= starvedFor && ran-first.ran < span/10 && waited-first.waited > span/2
	}
	s.recent = append(s.recent, now)
	return starved
}

// ErrByHand is what Main returns when it was not started by Start.
var ErrByHand = errors.New("tee --relay is the pass-through process of another convlog tee, not for use by hand")

// Main is `convlog tee --relay`: the pass-through process. stallLimit is
// how long it waits for a logger that does not take its input (zero: the
// default).
func Main(stderr io.Writer, stallLimit time.Duration) error {
	// Signals are tee's to handle: Ctrl-C reaches the whole process group,
	// and tee decides when the session ends. This process ends with the
	// input, or with tee (Pdeathsig).
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE, syscall.SIGXFSZ)
	if err := writeHello(relayFD); err != nil {
		return fmt.Errorf("%w: fd %d: %v", ErrByHand, relayFD, err)
	}
	var b [1]byte
	if n, _ := syscall.Read(controlFD, b[:]); n != 1 || b[0] != 'G' {
		return nil // the session ended before the handover
	}
	warn := func(format string, args ...any) {
		fmt.Fprintf(stderr, "convlog: warning: "+format+"\n", args...)
	}
	r := &passer{In: 0, Out: 1, Log: relayFD, Control: controlFD, StallLimit: stallLimit,
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

// SelfExe names this very binary, even if its file has been replaced or
// removed since it started (an upgrade during a long session).
func SelfExe() string {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return ""
	}
	return "/proc/self/exe"
}
