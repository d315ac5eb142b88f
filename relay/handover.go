package relay

import (
	"io"
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
// If the passer's process dies, the Copier reads stdin itself again.
type Handover struct {
	In  io.Reader
	Out io.Writer

	offers   chan offer
	relay    *relayReader
	switched bool // reading from relay
	tookBack bool // the passer's process died: a gap to report, once
	lastNL   bool // the last relayed byte was '\n'

	// Cut is set when the passer's process ended without closing its
	// stream; bytes it had read and not passed on are lost. It may be read
	// while the Copier runs.
	Cut atomic.Bool

	handed atomic.Bool // the passer's process was told to begin
}

// HandedOver reports whether the passer's process has been told to begin: from
// then on, the one byte on start is written and start is free for other
// messages. Any goroutine may ask.
func (h *Handover) HandedOver() bool { return h.handed.Load() }

type offer struct {
	relay *relayReader
	start io.Writer
}

// NewHandover starts with in and out.
func NewHandover(in io.Reader, out io.Writer) *Handover {
	return &Handover{In: in, Out: out, offers: make(chan offer, 1), lastNL: true}
}

// Source is the input read until the handover (stream.HandOver).
func (h *Handover) Source() io.Reader { return h.In }

// offerRelay hands the pass-through over at the next read to the process whose
// relay stream is relay, after its hello has been read; one byte on start
// tells it to begin. Offer may be called from any goroutine; a second offer,
// or one after a passer's process has died, is not taken.
func (h *Handover) offerRelay(relay *relayReader, start io.Writer) {
	select {
	case h.offers <- offer{relay, start}:
	default:
	}
}

// Read reads from the passer once handed over, else from In.
func (h *Handover) Read(p []byte) (int, error) {
	if h.relay == nil {
		select {
		case o := <-h.offers:
			// The passer starts reading stdin only now, after the last read
			// of this process has been written out.
			if _, err := o.start.Write([]byte{'G'}); err == nil {
				h.relay, h.switched = o.relay, true
				h.handed.Store(true)
			}
		default:
		}
	}
	if h.switched {
		n, err := h.relay.Read(p)
		if n > 0 {
			h.lastNL = p[n-1] == '\n'
		}
		if err != errRelayCut {
			return n, err
		}
		// The passer's process is gone: pass the input through here again.
		h.switched, h.tookBack = false, true
		h.Cut.Store(true)
		if n > 0 {
			return n, nil
		}
	}
	return h.In.Read(p)
}

// Write writes to Out until the handover; after it, the bytes have been
// written by the Relay.
func (h *Handover) Write(p []byte) (int, error) {
	if h.switched {
		return len(p), nil
	}
	return h.Out.Write(p)
}

// Now is the time of the last read: the passer's, once handed over.
func (h *Handover) Now() int64 {
	if h.switched {
		return h.relay.Time()
	}
	return time.Now().UnixMilli()
}

// TakeGap reports what the passer skipped, and, when its process died in
// the middle of a line, that line: the rest of it may have been read and
// lost.
func (h *Handover) TakeGap() (newlines int64, endedAtEOL, ok bool) {
	if h.tookBack {
		h.tookBack = false
		nl, _, skipped := h.relay.TakeGap()
		if skipped || !h.lastNL {
			return nl, false, true
		}
		return 0, false, false
	}
	if h.switched {
		return h.relay.TakeGap()
	}
	return 0, false, false
}
