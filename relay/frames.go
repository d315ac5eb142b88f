package relay

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The relay protocol carries the input from the pass-through process of
// `convlog tee` to its logging process, which would otherwise not know when
// each read was made (a message's time is its read's) or what the
// pass-through had to skip. Every frame is a 16-byte header, then its
// payload:
//
//	byte 0     kind: 'H' hello, 'D' data, 'G' gap, 'E' end of input
//	bytes 4–7  payload length, little-endian
//	bytes 8–15 the Unix ms of the read (data frames)
//
// A stream opens with a hello (see helloInfo), and ends with an end frame; one
// that stops without it was cut (the pass-through process is gone). A gap's
// payload is the newlines skipped (8 bytes) and whether the skipped bytes
// ended with one (1 byte).
//
// A stream that tee rebuilds after the pass-through process died (see
// takeBack) ends with a frame of its own, 'T': the rest of the input is
// on stdin, and nothing before it was lost.
const (
	frameHeader = 16
	relayHello  = "convlog relay 2"
	gapPayload  = 9
	gapFrame    = frameHeader + gapPayload

	kindHello    = 'H'
	kindData     = 'D'
	kindGap      = 'G'
	kindEnd      = 'E'
	kindTakeBack = 'T'
)

// helloInfo is what the pass-through process says before it begins: the totals
// of its I/O so far, which tee subtracts from the kernel's totals if the
// process dies (see takeBack), and whether those totals can be trusted.
type helloInfo struct {
	Read, Written int64 // rchar and wchar of /proc/self/io, hello excluded
	BufSize       int   // the largest read, into the shared memory
	Exact         bool  // the process does no I/O but the relay's
}

// helloPayload is the size of a hello's payload.
const helloPayload = len(relayHello) + 8 + 8 + 4 + 1

// appendHello appends the frame that opens a relay stream.
func appendHello(b []byte, h helloInfo) []byte {
	p := make([]byte, 0, helloPayload)
	p = append(p, relayHello...)
	p = binary.LittleEndian.AppendUint64(p, uint64(h.Read))
	p = binary.LittleEndian.AppendUint64(p, uint64(h.Written))
	p = binary.LittleEndian.AppendUint32(p, uint32(h.BufSize))
	exact := byte(0)
	if h.Exact {
		exact = 1
	}
	return appendFrame(b, kindHello, 0, append(p, exact))
}

// errRelayCut is what a relayReader returns when its stream ends without an
// end frame: the process that passed the input through is gone.
var errRelayCut = errors.New("the pass-through process ended without closing the stream")

// errTakenBack is what a relayReader returns at a take-back frame: the
// process that passed the input through is gone, and the rest of the input
// is on stdin, from the very byte that process stopped at.
var errTakenBack = errors.New("the pass-through process ended; the input goes on on stdin")

// putHeader writes a frame header into h (frameHeader bytes).
func putHeader(h []byte, kind byte, n int, ms int64) {
	h[0], h[1], h[2], h[3] = kind, 0, 0, 0
	binary.LittleEndian.PutUint32(h[4:8], uint32(n))
	binary.LittleEndian.PutUint64(h[8:16], uint64(ms))
}

// appendFrame appends a whole frame.
func appendFrame(b []byte, kind byte, ms int64, payload []byte) []byte {
	var h [frameHeader]byte
	putHeader(h[:], kind, len(payload), ms)
	return append(append(b, h[:]...), payload...)
}

// appendGap appends a gap frame.
func appendGap(b []byte, newlines int64, endedAtEOL bool) []byte {
	var p [gapPayload]byte
	binary.LittleEndian.PutUint64(p[:8], uint64(newlines))
	if endedAtEOL {
		p[8] = 1
	}
	return appendFrame(b, kindGap, 0, p[:])
}

// relayReader reads the data of a relayed stream as a plain Reader would,
// with each read's time and the gaps on the side; a Copier reading from one
// hands them on with its chunks.
type relayReader struct {
	r      *bufio.Reader
	hello  bool
	said   helloInfo // the hello's payload
	left   int       // payload bytes of the current data frame still to read
	time   int64     // of the current data frame
	gap    bool
	gapNL  int64
	gapEOL bool
	err    error
}

// newRelayReader reads the relay protocol from r.
func newRelayReader(r io.Reader) *relayReader {
	return &relayReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// readHello reads the hello frame that opens the stream, and fails unless there
// is one: the input is not from a convlog tee.
func (rr *relayReader) readHello() error {
	if rr.hello {
		return nil
	}
	if rr.err = rr.next(); rr.err == errRelayCut {
		rr.err = errNotRelay
	}
	return rr.err
}

// Read reads data bytes, never across the end of a data frame, so that all
// the bytes of one Read have the same time. It returns io.EOF at the end
// frame and errRelayCut if the stream stops before it.
func (rr *relayReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for rr.left == 0 {
		if rr.err != nil {
			return 0, rr.err
		}
		rr.err = rr.next()
	}
	n, err := rr.r.Read(p[:min(len(p), rr.left)])
	rr.left -= n
	if err != nil {
		// The frame promised more bytes than came.
		rr.err, rr.left = errRelayCut, 0
		if n == 0 {
			return 0, rr.err
		}
	}
	return n, nil
}

// next reads frame headers up to the next data frame with a payload, and
// returns the error that ends the stream if there is none.
func (rr *relayReader) next() error {
	var h [frameHeader]byte
	if _, err := io.ReadFull(rr.r, h[:]); err != nil {
		return errRelayCut
	}
	kind, n := h[0], int64(binary.LittleEndian.Uint32(h[4:8]))
	if !rr.hello {
		var got [helloPayload]byte
		if kind != kindHello || n != int64(len(got)) {
			return errNotRelay
		}
		if _, err := io.ReadFull(rr.r, got[:]); err != nil || string(got[:len(relayHello)]) != relayHello {
			return errNotRelay
		}
		p := got[len(relayHello):]
		rr.said = helloInfo{
			Read:    int64(binary.LittleEndian.Uint64(p[0:8])),
			Written: int64(binary.LittleEndian.Uint64(p[8:16])),
			BufSize: int(binary.LittleEndian.Uint32(p[16:20])),
			Exact:   p[20] == 1,
		}
		rr.hello = true
		return nil
	}
	switch kind {
	case kindData:
		rr.left, rr.time = int(n), int64(binary.LittleEndian.Uint64(h[8:16]))
		return nil
	case kindGap:
		var p [gapPayload]byte
		if n != gapPayload {
			return fmt.Errorf("relay: a gap frame of %d bytes", n)
		}
		if _, err := io.ReadFull(rr.r, p[:]); err != nil {
			return errRelayCut
		}
		rr.gap = true
		rr.gapNL += int64(binary.LittleEndian.Uint64(p[:8]))
		rr.gapEOL = p[8] == 1
		return nil
	case kindEnd:
		return io.EOF
	case kindTakeBack:
		return errTakenBack
	}
	return fmt.Errorf("relay: unknown frame kind %q", kind)
}

var errNotRelay = errors.New("relay: the stream does not open with convlog's hello")

// Time is the Unix ms of the read whose bytes the last Read returned.
func (rr *relayReader) Time() int64 { return rr.time }

// TakeGap reports the bytes the pass-through process skipped since the last
// call, all of them before the bytes of the last Read.
func (rr *relayReader) TakeGap() (newlines int64, endedAtEOL, ok bool) {
	if !rr.gap {
		return 0, false, false
	}
	newlines, endedAtEOL = rr.gapNL, rr.gapEOL
	rr.gap, rr.gapNL, rr.gapEOL = false, 0, false
	return newlines, endedAtEOL, true
}
