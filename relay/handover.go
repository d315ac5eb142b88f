package relay

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Handover is the input and output of tee's Copier. It starts out as stdin
// and stdout: the Copier passes the input through itself. Once a
// pass-through process (a passer) is offered, the next read hands the
// pass-through over to it, and from then on the Copier reads what the passer
// sends, with its times and gaps, and writes nothing: the passer has.
//
// The pass-through then shares no runtime with the logging: on a machine
// with no CPU to spare, tee's garbage collector stopped the world while the
// logger's thread of idle priority waited for a turn, and held up the
// pass-through for up to half a second (200-byte lines), which the passer's
// process does not. A short session ends before there is a passer: starting a
// second process costs about as much as all the rest of a 10-line session.
//
// If the passer's process dies, the Copier reads stdin itself again, from
// the very byte the process stopped at: what the process had read and not
// written out is written out first, and what it had not sent is logged
// (takeBack). Only if that cannot be known (TookBack is false) may bytes in
// flight be lost.
type Handover struct {
	In  io.Reader
	Out io.Writer

	offers   chan offer
	relay    *relayReader
	proc     relayProcess // behind relay, if any
	switched bool         // reading from relay
	tookBack bool         // the passer's process died: a gap to report, once
	lastNL   bool         // the last relayed byte was '\n'
	outErr   error        // stdout failed while the passer had it
	lost     error        // why the takeover could not be exact

	// Cut is set when the passer's process ended without closing its
	// stream, and TookBack as well when tee carried on from the exact byte
	// it stopped at; with Cut alone, bytes it had read and not passed on
	// may be lost (Lost says why). Both may be read while the Copier runs.
	Cut, TookBack atomic.Bool

	handed     atomic.Bool // the passer's process was told to begin
	wroteAfter atomic.Bool // tee wrote to stdout after the passer's process died

	mu     sync.Mutex // over taking an offer and Halt
	halted bool
}

// Passed is what a pass-through process wrote to stdout.
type Passed struct {
	Bytes, Newlines int64
	LastNL          bool // the last byte was '\n' (or there was none)
}

// relayProcess is the process behind a relay stream.
type relayProcess interface {
	// accept is called when the Handover takes the pass-through over.
	accept(h *Handover)
	// halt kills the process if it still runs and reports what it wrote
	// to stdout.
	halt() (Passed, error)
}

// HandedOver reports whether the passer's process has been told to begin: from
// then on, the one byte on start is written and start is free for other
// messages. Any goroutine may ask.
func (h *Handover) HandedOver() bool { return h.handed.Load() }

type offer struct {
	relay *relayReader
	start io.Writer
	proc  relayProcess
}

// NewHandover starts with in and out.
func NewHandover(in io.Reader, out io.Writer) *Handover {
	return &Handover{In: in, Out: out, offers: make(chan offer, 1), lastNL: true}
}

// Source is the input read until the handover (stream.HandOver).
func (h *Handover) Source() io.Reader { return h.In }

// offerRelay hands the pass-through over at the next read to the process whose
// relay stream is relay, after its hello has been read; one byte on start
// tells it to begin. proc, if not nil, is that process. Offer may be called
// from any goroutine; a second offer, or one after a passer's process has
// died, is not taken.
func (h *Handover) offerRelay(relay *relayReader, start io.Writer, proc relayProcess) {
	select {
	case h.offers <- offer{relay, start, proc}:
	default:
	}
}

// Read reads from the passer once handed over, else from In.
func (h *Handover) Read(p []byte) (int, error) {
	if h.relay == nil {
		select {
		case o := <-h.offers:
			h.take(o)
		default:
		}
	}
	if h.switched {
		n, err := h.relay.Read(p)
		if n > 0 {
			h.lastNL = p[n-1] == '\n'
		}
		switch err {
		case errTakenBack:
			// The passer's process is gone, and everything it took is
			// accounted for: stdin goes on from there.
			h.switched = false
			h.TookBack.Store(true)
			h.Cut.Store(true)
		case errRelayCut:
			// The passer's process is gone: pass the input through here
			// again.
			h.switched, h.tookBack = false, true
			h.Cut.Store(true)
		default:
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
	return h.In.Read(p)
}

// take takes an offer, unless the pass-through has been halted.
func (h *Handover) take(o offer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.halted {
		return
	}
	// The passer starts reading stdin only now, after the last read of
	// this process has been written out.
	if _, err := o.start.Write([]byte{'G'}); err == nil {
		h.relay, h.proc, h.switched = o.relay, o.proc, true
		if h.proc != nil {
			h.proc.accept(h)
		}
		h.handed.Store(true)
	}
}

// Write writes to Out until the handover; after it, the bytes have been
// written by the Relay.
func (h *Handover) Write(p []byte) (int, error) {
	if h.switched {
		return len(p), nil
	}
	if h.outErr != nil {
		return 0, h.outErr
	}
	if h.TookBack.Load() && len(p) > 0 {
		h.wroteAfter.Store(true)
	}
	return h.Out.Write(p)
}

// Halt stops the pass-through of a session that ends at once: no process
// takes it over from now on, and one that has is killed. It reports what
// that process wrote to stdout, if any did, and whether tee wrote to stdout
// after it; err says why that cannot be known. Any goroutine may call it.
func (h *Handover) Halt() (passed Passed, after bool, err error) {
	h.mu.Lock()
	h.halted = true
	proc, handed := h.proc, h.handed.Load()
	h.mu.Unlock()
	if !handed {
		return Passed{LastNL: true}, false, nil
	}
	if proc == nil {
		return Passed{}, false, errors.New("no process to ask")
	}
	passed, err = proc.halt()
	return passed, h.wroteAfter.Load(), err
}

// Lost says why a pass-through process that died could not be taken over
// from the exact byte it stopped at; nil if it could, or none died. Read it
// once the Copier is done.
func (h *Handover) Lost() error {
	if h.TookBack.Load() || !h.Cut.Load() {
		return nil
	}
	if h.lost != nil {
		return h.lost
	}
	return errors.New("it ended with no way to tell how far it got")
}

// Now is the time of the last read: the passer's, once handed over.
func (h *Handover) Now() int64 {
	if h.switched {
		return h.relay.Time()
	}
	return time.Now().UnixMilli()
}

// TakeGap reports what the passer skipped, and, when its process died in
// the middle of a line and how far it got cannot be known, that line: the
// rest of it may have been read and lost.
func (h *Handover) TakeGap() (newlines int64, endedAtEOL, ok bool) {
	if h.tookBack {
		h.tookBack = false
		nl, _, skipped := h.relay.TakeGap()
		if skipped || !h.lastNL {
			return nl, false, true
		}
		return 0, false, false
	}
	if h.relay != nil {
		// The gaps of a stream taken back come before stdin's bytes.
		return h.relay.TakeGap()
	}
	return 0, false, false
}
