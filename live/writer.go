package live

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// How long the writer waits, at the end, for the last lines to reach a
// slow stderr before it gives up on them; how often it looks for room in a
// full pipe: soon at first, then less and less often, so that a pipe that
// nobody reads costs next to nothing.
const (
	closeWait   = time.Second
	pollRoom    = 5 * time.Millisecond
	maxPollRoom = 200 * time.Millisecond
)

// item is a line to write; a final one (the end of the session, the count
// of lines dropped) may use the room kept free in a pipe.
type item struct {
	b     []byte
	final bool
}

// writer writes lines to stderr on a goroutine of its own, so that the
// logger that makes them never waits for stderr: a line that finds the
// queue full is dropped and counted. On Linux, when stderr is a pipe, it
// also leaves room in the pipe (reserve, of the pipe's capacity) so that
// convlog's own warnings and the end of the session still fit when nobody
// reads it: a line that would eat into that room waits for the reader, and
// is dropped once the session ends.
type writer struct {
	w    io.Writer
	room func() int // free bytes in the pipe under w; nil when not known
	q    chan item

	reserve, finalReserve int

	dropped atomic.Int64
	waiting atomic.Bool // a line waits for room in the pipe
	closing atomic.Bool // the session has ended: lines without room are dropped
	hurry   atomic.Bool // the end waited long enough: final lines too
	done    chan struct{}
}

func newWriter(w io.Writer, queue int) *writer {
	wr := &writer{w: w, q: make(chan item, queue), done: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		var size int
		wr.room, size = pipeRoom(f)
		// A quarter of a pipe's 64 KiB stays free for the rest of stderr,
		// and the end of the session may use half of that.
		wr.reserve, wr.finalReserve = min(16<<10, size/4), min(4<<10, size/8)
	}
	go wr.run()
	return wr
}

// put queues a line, or drops it when the queue is full.
func (wr *writer) put(b []byte) {
	select {
	case wr.q <- item{b: b}:
	default:
		wr.dropped.Add(1)
	}
}

// finish queues the lines of the end, writes what is queued, then the
// count of lines dropped, waiting for a slow stderr for closeWait in all at
// most. Lines without room in a pipe are dropped from now on, so that the
// end takes their place. A write that stderr holds up for good (a terminal
// whose output is paused) is left behind.
func (wr *writer) finish(lines [][]byte) {
	wr.closing.Store(true)
	t := time.NewTimer(closeWait)
	defer t.Stop()
	for i, b := range lines {
		select {
		case wr.q <- item{b: b, final: true}:
		case <-t.C:
			wr.dropped.Add(int64(len(lines) - i))
			wr.hurry.Store(true)
			close(wr.q)
			wr.wait(50 * time.Millisecond)
			return
		}
	}
	close(wr.q)
	select {
	case <-wr.done:
		return
	case <-t.C:
	}
	wr.hurry.Store(true)
	wr.wait(50 * time.Millisecond)
}

// wait waits for the writer to be done, for d at most.
func (wr *writer) wait(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wr.done:
	case <-t.C:
	}
}

func (wr *writer) run() {
	defer close(wr.done)
	for it := range wr.q {
		wr.write(it)
	}
	if n := wr.dropped.Load(); n > 0 {
		wr.write(item{b: fmt.Appendf(nil, "  %s dropped: stderr did not keep up\n", plural(n, "progress line")), final: true})
	}
}

func (wr *writer) write(it item) {
	if wr.room != nil {
		reserve := wr.reserve
		if it.final {
			reserve = wr.finalReserve
		}
		poll := pollRoom
		for {
			r := wr.room()
			if r < 0 || r >= len(it.b)+reserve {
				break
			}
			if it.final && wr.hurry.Load() || !it.final && wr.closing.Load() {
				wr.waiting.Store(false)
				wr.dropped.Add(1)
				return
			}
			wr.waiting.Store(true)
			time.Sleep(poll)
			poll = min(2*poll, maxPollRoom)
		}
		wr.waiting.Store(false)
	}
	if _, err := wr.w.Write(it.b); err != nil {
		wr.dropped.Add(1)
	}
}
