package stream

import (
	"bytes"
	"errors"
	"io"
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

	buf  []byte
	pool chan []byte
}

// Release gives the chunk's buffer back to the Copier.
func (c *Chunk) Release() {
	if c.pool != nil && c.buf != nil {
		c.pool <- c.buf
		c.buf = nil
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
type Copier struct {
	In  io.Reader
	Out io.Writer

	// BufSize is the size of one read; Buffers bounds how many reads may wait
	// for the logger (memory is BufSize×Buffers at most).
	BufSize int
	Buffers int
	// StallLimit is how long the Copier waits for the logger to free a buffer
	// before it stops handing input over (the input is still passed through;
	// what is skipped is reported as a gap).
	StallLimit time.Duration

	Now func() int64

	// OutErr is called once with the first write error that is not a closed
	// pipe. A closed pipe is expected (`convlog tee | head`) and silent.
	OutErr func(error)

	// Stats, valid after Run.
	BytesIn     int64
	OutClosed   bool
	SkippedRuns int // times the logger fell behind and input was skipped

	pool      chan []byte
	allocated int
}

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
	c.pool = make(chan []byte, c.Buffers)

	var (
		scratch  []byte // read buffer while skipping
		skipping bool
		gap      Chunk
		timer    = time.NewTimer(time.Hour)
	)
	timer.Stop()
	for {
		var buf []byte
		if skipping {
			buf = c.tryGet()
			if buf != nil {
				skipping = false
			}
		} else {
			buf = c.get(timer)
			skipping = buf == nil
		}
		readInto := buf
		if readInto == nil {
			if scratch == nil {
				scratch = make([]byte, c.BufSize)
			}
			readInto = scratch
		}
		n, err := c.In.Read(readInto)
		if n > 0 {
			now := c.Now()
			c.BytesIn += int64(n)
			c.write(readInto[:n])
			if buf == nil {
				if !gap.Gap {
					c.SkippedRuns++
					gap.Gap = true
				}
				gap.GapNewlines += int64(bytes.Count(readInto[:n], []byte{'\n'}))
				gap.GapEndedAtEOL = readInto[n-1] == '\n'
			} else {
				ch := &Chunk{Data: buf[:n], Time: now, buf: buf, pool: c.pool}
				if gap.Gap {
					ch.Gap, ch.GapNewlines, ch.GapEndedAtEOL = true, gap.GapNewlines, gap.GapEndedAtEOL
					gap = Chunk{}
				}
				out <- ch
			}
		} else if buf != nil {
			c.pool <- buf
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

func (c *Copier) tryGet() []byte {
	select {
	case b := <-c.pool:
		return b
	default:
	}
	if c.allocated < c.Buffers {
		c.allocated++
		return make([]byte, c.BufSize)
	}
	return nil
}

// get returns a free buffer, waiting at most StallLimit; nil means the
// logger is stuck and input is to be skipped.
func (c *Copier) get(timer *time.Timer) []byte {
	if b := c.tryGet(); b != nil {
		return b
	}
	timer.Reset(c.StallLimit)
	defer timer.Stop()
	select {
	case b := <-c.pool:
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
