package stream

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/convlog/convlog/internal/idle"
)

// Logger is the consuming end of a Copier: it frames the chunks into lines,
// runs them through a Processor and commits in groups. A commit waits up to
// Linger for more lines, so that a chatty stream (a line a millisecond) is
// written a few dozen lines at a time rather than page by page for every
// line; a burst is committed in batches capped by rows, bytes and age. What
// is logged is never more than MaxDelay behind what was read.
type Logger struct {
	Proc   *Processor
	Commit func(*Facts)

	MaxRows  int
	MaxBytes int
	MaxDelay time.Duration
	Linger   time.Duration

	// Pause, if set, is called when no input has come for PauseAfter
	// since the last commit, once per pause: the time for work that would
	// otherwise slow the lines passing through.
	Pause      func()
	PauseAfter time.Duration

	// Abort, when closed, makes Run commit what it has and return without
	// waiting for the rest of the input.
	Abort <-chan struct{}

	// Room, if set, is roughly how many more bytes the sink's storage can
	// take (a full disk; see batchRoom); it is asked from the logger's
	// goroutine. It is a function, not a method of the sink, because the
	// sinks between the logger and the storage would hide it.
	Room func() int64

	framer  Framer
	curTime int64
	// The thread of idle priority Start runs on: 0 if none, -1 once left.
	idleThread atomic.Int64
	// The batch not yet committed; fields, so that a run that leaves its
	// thread is carried on by the next.
	rows, size int
	since      time.Time
	room       int  // the most bytes of lines the batch may hold (Room)
	paused     bool // Pause was called, and no input has come since
}

// Run consumes chunks until the channel is closed or Abort fires, and always
// ends with a commit.
func (l *Logger) Run(chunks <-chan *Chunk) {
	l.run(chunks, nil)
}

// Start runs the logger on a goroutine of its own and returns a channel that
// is closed when it is done, as Run would return.
//
// The logger's work can wait (what it logs may be MaxDelay behind); the
// pass-through cannot. On Linux the logger starts on a thread of idle
// priority (SCHED_IDLE), which the kernel runs only on a CPU that nothing
// else wants and takes off it as soon as anything else wakes up. Otherwise a
// commit holds a CPU for most of a millisecond and the kernel lets it finish
// its time slice first: on two CPUs, with a 10 KB line a millisecond, the
// pass-through's p99 latency was 3.4–4.4× tee's, and 1.8–2.7× with the
// logger at idle priority (medians of interleaved runs).
//
// On a machine with no CPU to spare, such a thread gets a turn only every
// second or two, and an unprivileged thread cannot be given its priority
// back. So the logger watches how long its thread waits for a CPU; once that
// is more than MaxDelay/2, it carries on on an ordinary thread for the rest
// of the run, as it would have from the start. Until it notices, which it
// can only do when it gets a turn, logging is that far behind, and a
// stop-the-world of the garbage collector, which waits for every thread
// running Go code, holds up the pass-through as long: once per run at most,
// and only on a machine with no CPU to spare.
func (l *Logger) Start(chunks <-chan *Chunk) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		// Never unlocked: a thread of idle priority must not go back to the
		// runtime's pool, where it could run the pass-through. It ends with
		// this goroutine.
		runtime.LockOSThread()
		l.defaults()
		starved := idle.Thread(LoggerThread, l.MaxDelay/2)
		if starved != nil {
			l.idleThread.Store(int64(idle.ThreadID()))
		}
		// Without an idle thread (nil), this is a plain Run.
		if l.run(chunks, starved) {
			l.idleThread.Store(-1)
			go func() {
				l.run(chunks, nil)
				close(done)
			}()
			return
		}
		close(done)
	}()
	return done
}

// IdleThread reports the id of the thread of idle priority that the logger
// runs on (0 if it has none), and whether it has left it for an ordinary
// one because it was kept waiting for a CPU. Any goroutine may ask.
func (l *Logger) IdleThread() (tid int, left bool) {
	n := l.idleThread.Load()
	return int(max(n, 0)), n < 0
}

// batchRoom is the most bytes of lines a batch may hold: MaxBytes, and when
// the storage is running out of room (Room), a quarter of what is left. A
// batch that does not fit is lost whole (a sink stores what came before it
// and nothing after), so near the end batches get small and as much of the
// stream is stored as fits: with 16 MiB batches, a 5.7 MB burst stored
// nothing on a disk with 1.9 MB free.
func (l *Logger) batchRoom() int {
	n := l.MaxBytes
	if l.Room != nil {
		if r := l.Room() / 4; r < int64(n) {
			n = int(max(r, 0))
		}
	}
	return n
}

// Names of the threads of idle priority: the logger's, and the one that
// writes what it finds (Async).
const (
	LoggerThread = "convlog-log"
	StoreThread  = "convlog-store"
)

// defaultMaxDelay is Logger.MaxDelay unless set.
const defaultMaxDelay = 100 * time.Millisecond

func (l *Logger) defaults() {
	if l.MaxRows <= 0 {
		l.MaxRows = 2000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 16 << 20
	}
	if l.MaxDelay <= 0 {
		l.MaxDelay = defaultMaxDelay
	}
	if l.Linger <= 0 {
		l.Linger = 25 * time.Millisecond
	}
	if l.PauseAfter <= 0 {
		l.PauseAfter = 100 * time.Millisecond
	}
}

// run is Run, except that it returns true, leaving the rest to a later call,
// as soon as leave (if set) reports true. leave is asked after each chunk
// and each commit; the lines of a chunk are all taken before it returns.
func (l *Logger) run(chunks <-chan *Chunk, leave func() bool) (left bool) {
	l.defaults()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	line := func(b []byte) {
		if l.rows > 0 && l.size+len(b) > l.room {
			l.Commit(l.Proc.Totals())
			l.rows, l.size = 0, 0
		}
		if l.rows == 0 {
			l.since = time.Now()
			l.room = l.batchRoom()
		}
		l.rows++
		l.size += len(b)
		l.Proc.Line(b, l.curTime)
	}
	commit := func() {
		l.Commit(l.Proc.Totals())
		l.rows, l.size = 0, 0
	}
	pause := func() {
		l.paused = true
		l.Pause()
	}
	defer func() {
		if !left {
			commit()
		}
	}()
	for {
		var (
			ch *Chunk
			ok bool
		)
		if leave != nil && leave() {
			return true
		}
		select {
		case <-l.Abort:
			return false
		default:
		}
		// What to do if no input comes for a while: with lines not yet
		// committed, commit them (Linger); after a commit, Pause once.
		var (
			wait    time.Duration
			onQuiet func()
		)
		switch {
		case l.rows > 0:
			if wait = l.Linger - time.Since(l.since); wait <= 0 {
				commit()
				continue
			}
			onQuiet = commit
		case l.Pause != nil && !l.paused:
			wait, onQuiet = l.PauseAfter, pause
		}
		var quiet <-chan time.Time
		if onQuiet != nil {
			timer.Reset(wait)
			quiet = timer.C
		}
		select {
		case ch, ok = <-chunks:
		case <-quiet:
			onQuiet()
			continue
		case <-l.Abort:
			return false
		}
		if quiet != nil {
			timer.Stop()
		}
		l.paused = false
		if !ok {
			l.framer.Flush(line)
			return false
		}
		l.curTime = ch.Time
		if ch.Gap {
			lost := ch.DroppedLines()
			if l.framer.Skipping() {
				// The line under way was counted with the gap before.
				lost--
			}
			l.Proc.Skip(lost)
			l.framer.Gap(ch.GapEndedAtEOL)
		}
		l.framer.Feed(ch.Data, line)
		ch.Release()
		if l.rows >= l.MaxRows || l.size >= l.MaxBytes || (l.rows > 0 && time.Since(l.since) >= l.MaxDelay) {
			commit()
		}
	}
}
