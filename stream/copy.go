package stream

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"syscall"
	"time"
)

// Chunk is one read from the input, handed from the Copier to the logger.
type Chunk struct {
	Data []byte
	Time int64 // Unix ms when the read returned

	// When the logger fell so far behind that the Copier stopped handing it
	// input, the chunk that resumes logging says how much was skipped.
	Gap           bool
	GapNewlines   int64 // newlines in the skipped bytes
	GapEndedAtEOL bool  // the skipped bytes ended with '\n'

	blk *block
}

// block is one of the Copier's buffers. Reads are packed into it one after
// another, each handed on as a Chunk, and it goes back to the pool when the
// Copier has moved on and the logger has released every chunk in it.
type block struct {
	buf  []byte
	refs atomic.Int32
	pool chan *block
}

func (b *block) unref() {
	if b.refs.Add(-1) == 0 {
		b.pool <- b
	}
}

// Release gives the chunk's bytes back to the Copier.
func (c *Chunk) Release() {
	if c.blk != nil {
		c.blk.unref()
		c.blk = nil
	}
}

// DroppedLines is how many input lines the gap before this chunk cost.
func (c *Chunk) DroppedLines() int64 {
	if !c.Gap {
		return 0
	}
	if c.GapEndedAtEOL {
		return c.GapNewlines
	}
	return c.GapNewlines + 1
}

// Copier forwards In to Out byte for byte and hands every read to a logger
// without waiting on it: each read is written out before the next read is
// made, and the logger works on its own copy of the bytes.
//
// The logger may fall behind by BufSize×Buffers bytes before the Copier
// waits for it. Reads are packed into the buffers: a line a millisecond
// takes a few KB of buffer each, not a whole buffer, so a logger that stops
// for a moment (a commit, a checkpoint, the switch to large pages) holds up
// nothing. With one buffer per read, 32 reads of 10 KB were enough to stall
// the pass-through.
type Copier struct {
	In  io.Reader
	Out io.Writer

	// BufSize is the size of one buffer, and of the largest read; Buffers
	// bounds how many may hold bytes that wait for the logger (memory is
	// BufSize×Buffers at most). The channel handed to Run bounds how many
	// reads may wait.
	BufSize int
	Buffers int
	// StallLimit bounds how long any line waits in the input because the
	// logger holds the Copier up (see wait). Past it the Copier stops
	// handing input over (the input is still passed through; what is
	// skipped is reported as a gap) until the logger frees a buffer.
	StallLimit time.Duration
	// InputBuffer is how many bytes the input holds that the Copier has not
	// read yet, at most: a pipe's capacity. Zero: the capacity of In if it
	// is a pipe, else 1 MiB.
	InputBuffer int

	Now func() int64

	// OutErr is called once with the first write error that is not a closed
	// pipe. A closed pipe is expected (`convlog tee | head`) and silent.
	OutErr func(error)

	// Stats, valid after Run.
	BytesIn     int64
	OutClosed   bool
	SkippedRuns int // times the logger fell behind and input was skipped

	pool      chan *block
	allocated int

	// What the Copier knows of when the input it has not read yet arrived
	// (see wait): every byte from BytesIn on arrived after since, and
	// every byte from marks[i].pos on after marks[i].at.
	since time.Time
	marks []inputMark
}

// inputMark says that every byte of the input from pos on arrived after at.
type inputMark struct {
	at  time.Time
	pos int64
}

// maxMarks bounds the marks kept; past it the Copier's bound on how long
// input has waited is only less tight.
const maxMarks = 1024

// Run copies until EOF or a read error and sends chunks on out, which it
// closes before returning. A read error other than EOF is returned after the
// bytes read before it were passed on.
func (c *Copier) Run(out chan<- *Chunk) error {
	defer close(out)
	if c.BufSize <= 0 {
		c.BufSize = 256 << 10
	}
	if c.Buffers <= 0 {
		c.Buffers = 32
	}
	if c.StallLimit <= 0 {
		c.StallLimit = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if c.InputBuffer <= 0 {
		c.InputBuffer = inputBuffer(c.In)
	}
	c.since, c.marks = time.Now(), c.marks[:0]
	c.pool = make(chan *block, c.Buffers)
	// A buffer with less room than this is left for a fresh one, so that a
	// fast stream is still read in large reads.
	minRoom := max(c.BufSize/4, 1)

	var (
		cur      *block // the buffer being filled; the Copier holds a reference
		off      int    // where in cur the next read goes
		scratch  []byte // read buffer while skipping
		skipping bool
		gap      Chunk
		counted  bool // the run of skipped input in gap is in SkippedRuns
		timer    = time.NewTimer(time.Hour)
	)
	timer.Stop()
	// skip accounts for bytes passed through but not handed on.
	skip := func(p []byte) {
		if !counted {
			c.SkippedRuns++
			counted = true
		}
		gap.Gap = true
		gap.GapNewlines += int64(bytes.Count(p, []byte{'\n'}))
		gap.GapEndedAtEOL = p[len(p)-1] == '\n'
	}
	defer func() {
		if cur != nil {
			cur.unref()
		}
	}()
	for {
		if cur != nil && len(cur.buf)-off < minRoom {
			cur.unref()
			cur = nil
		}
		resuming := false
		if cur == nil {
			if skipping {
				// Logging resumes once a buffer is free, and the read is
				// handed on if the logger takes it at once.
				cur = c.tryGet()
				resuming = cur != nil
			} else {
				cur = c.get(timer)
			}
			skipping = cur == nil
			off = 0
		}
		readInto := scratch
		if cur != nil {
			readInto = cur.buf[off:]
		} else if scratch == nil {
			scratch = make([]byte, c.BufSize)
			readInto = scratch
		}
		n, err := c.In.Read(readInto)
		if gs, ok := c.In.(GapReader); ok {
			// What the pass-through process skipped comes before this read,
			// and is reported with the next chunk as the Copier's own is.
			if nl, eol, ok := gs.TakeGap(); ok {
				gap.Gap = true
				gap.GapNewlines += nl
				gap.GapEndedAtEOL = eol
			}
		}
		if n > 0 {
			now := c.Now()
			data := readInto[:n:n]
			c.BytesIn += int64(n)
			c.arrived(n < len(readInto))
			c.write(data)
			if cur == nil {
				skip(data)
			} else {
				cur.refs.Add(1)
				off += n
				ch := &Chunk{Data: data, Time: now, blk: cur}
				if gap.Gap {
					ch.Gap, ch.GapNewlines, ch.GapEndedAtEOL = true, gap.GapNewlines, gap.GapEndedAtEOL
					gap = Chunk{}
				}
				if !c.send(out, ch, timer, !resuming) {
					// The logger has held the input up too long: this
					// one, and what follows until it catches up, is skipped.
					if ch.Gap {
						gap = Chunk{Gap: true, GapNewlines: ch.GapNewlines, GapEndedAtEOL: ch.GapEndedAtEOL}
					}
					ch.Release()
					skip(data)
					cur.unref()
					cur, skipping = nil, true
				} else {
					counted = false
				}
			}
		}
		if err != nil {
			if gap.Gap {
				out <- &Chunk{Gap: true, GapNewlines: gap.GapNewlines, GapEndedAtEOL: gap.GapEndedAtEOL, Time: c.Now()}
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// send hands ch to the logger, waiting for room if wait is set, for as long
// as the stall allows.
func (c *Copier) send(out chan<- *Chunk, ch *Chunk, timer *time.Timer, wait bool) bool {
	select {
	case out <- ch:
		return true
	default:
	}
	if !wait {
		return false
	}
	d := c.wait()
	if d <= 0 {
		return false
	}
	timer.Reset(d)
	defer timer.Stop()
	select {
	case out <- ch:
		return true
	case <-timer.C:
		return false
	}
}

// wait is how much longer the Copier may wait for the logger now.
//
// While the Copier waits, the input's writer fills the pipe, and then
// waits too; a line that comes out after several waits has waited through
// all of them. With a logger that freed a buffer every 4 s (a locked file)
// and a limit on each wait of 10 s, lines waited 16 s. So the limit is on
// how long the oldest byte not yet read may have been waiting: the Copier
// waits until StallLimit after the moment that byte arrived, at the
// latest, however often the logger lets it go on meanwhile.
//
// That moment is bounded from what the Copier sees. A read that finds less
// than it asked for has emptied the input: whatever comes next arrives
// after it (since). And the input holds at most InputBuffer bytes: when the
// Copier starts to wait, everything from InputBuffer bytes further on
// arrives after that (a mark). A logger that is merely slower than the
// input lets the Copier read that far in milliseconds, so the bound keeps
// up, and the input is held back as a pipe would hold it.
//
// After the handover to a pass-through process, that process holds the
// input and bounds its own waits: each wait here has the whole StallLimit.
func (c *Copier) wait() time.Duration {
	if h, ok := c.In.(HandOver); ok && h.HandedOver() {
		return c.StallLimit
	}
	now := time.Now()
	pos := c.BytesIn + int64(c.InputBuffer)
	if n := len(c.marks); n < maxMarks && (n == 0 || c.marks[n-1].pos < pos) {
		c.marks = append(c.marks, inputMark{now, pos})
	}
	return c.StallLimit - now.Sub(c.since)
}

// arrived updates what is known of the unread input after a read; drained
// says that the read found less than it asked for.
func (c *Copier) arrived(drained bool) {
	if drained {
		c.since, c.marks = time.Now(), c.marks[:0]
		return
	}
	i := 0
	for i < len(c.marks) && c.marks[i].pos <= c.BytesIn {
		c.since = c.marks[i].at
		i++
	}
	if i > 0 {
		c.marks = append(c.marks[:0], c.marks[i:]...)
	}
}

// tryGet returns a free buffer, holding one reference, or nil.
func (c *Copier) tryGet() *block {
	var b *block
	select {
	case b = <-c.pool:
	default:
		if c.allocated >= c.Buffers {
			return nil
		}
		c.allocated++
		b = &block{buf: make([]byte, c.BufSize), pool: c.pool}
	}
	b.refs.Store(1)
	return b
}

// get returns a free buffer, waiting for as long as the stall allows; nil
// means the logger is stuck and input is to be skipped.
func (c *Copier) get(timer *time.Timer) *block {
	if b := c.tryGet(); b != nil {
		return b
	}
	d := c.wait()
	if d <= 0 {
		return nil
	}
	timer.Reset(d)
	defer timer.Stop()
	select {
	case b := <-c.pool:
		b.refs.Store(1)
		return b
	case <-timer.C:
		return nil
	}
}

func (c *Copier) write(p []byte) {
	if c.OutClosed {
		return
	}
	for len(p) > 0 {
		n, err := c.Out.Write(p)
		if err != nil {
			c.OutClosed = true
			if !errors.Is(err, syscall.EPIPE) && c.OutErr != nil {
				c.OutErr(err)
			}
			return
		}
		p = p[n:]
	}
}

// GapReader is input that reports bytes skipped before they reached the
// Copier: the pass-through process's stream (package relay), which skips
// what a stuck logger cannot take.
type GapReader interface {
	io.Reader
	// TakeGap reports the bytes skipped since the last call: how many
	// newlines they held and whether they ended a line.
	TakeGap() (newlines int64, endedAtEOL, ok bool)
}

// HandOver is input whose pass-through a process of its own may take over
// (package relay's Handover): from then on, that process holds the input
// and bounds its own waits.
type HandOver interface {
	io.Reader
	HandedOver() bool
	// Source is what is read until the handover: tee's stdin.
	Source() io.Reader
}
