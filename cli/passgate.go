package cli

import (
	"bytes"
	"io"
	"sync"
	"syscall"
	"time"
)

// passGate is tee's stdout as its Copier writes to it. It counts the lines
// written, and closes at the moment a session ends at once (a second
// signal): what was passed through by then and not logged is counted as
// dropped (teeLog.stopAtOnce).
type passGate struct {
	out io.Writer

	mu      sync.Mutex
	closed  bool
	writing []byte        // being written
	idle    chan struct{} // closed when the write in progress ends, after close
	counted passCount
}

// passCount is what went through to stdout.
type passCount struct {
	Bytes, Newlines int64
	LastNL          bool // the last byte was '\n' (or there was none)
}

func (c *passCount) add(p []byte) {
	if len(p) > 0 {
		c.Bytes += int64(len(p))
		c.Newlines += int64(bytes.Count(p, []byte{'\n'}))
		c.LastNL = p[len(p)-1] == '\n'
	}
}

// lines is how many lines, the last one perhaps unfinished, went through.
func (c passCount) lines() int64 {
	if c.Bytes > 0 && !c.LastNL {
		return c.Newlines + 1
	}
	return c.Newlines
}

func newPassGate(out io.Writer) *passGate {
	return &passGate{out: out, counted: passCount{LastNL: true}}
}

// Write writes to stdout, unless the gate is closed: then it fails as a
// closed pipe would, which the Copier takes silently.
func (g *passGate) Write(p []byte) (int, error) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return 0, syscall.EPIPE
	}
	g.writing = p
	g.mu.Unlock()
	n, err := g.out.Write(p)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.writing != nil {
		g.counted.add(p[:max(n, 0)])
		g.writing = nil
	}
	if g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
	return n, err
}

// passGateWait bounds how long close waits for a write in progress: a
// reader that takes nothing for that long may never.
const passGateWait = time.Second

// close closes the gate and returns what went through it. A write still
// in progress after passGateWait is counted whole: the reader may yet get
// its bytes, or part of them, once tee has gone.
func (g *passGate) close() passCount {
	g.mu.Lock()
	g.closed = true
	if g.writing != nil {
		idle := make(chan struct{})
		g.idle = idle
		g.mu.Unlock()
		select {
		case <-idle:
		case <-time.After(passGateWait):
		}
		g.mu.Lock()
		if g.writing != nil {
			g.counted.add(g.writing)
			g.writing = nil
		}
	}
	defer g.mu.Unlock()
	return g.counted
}
