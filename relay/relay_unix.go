//go:build unix

package relay

import (
	"bytes"
	"errors"
	"io"
	"time"

	"golang.org/x/sys/unix"
)

// passer is the pass-through process of `convlog tee` when the logging runs in
// a process of its own: it copies In to Out byte for byte and sends every
// read, framed (see relayReader), down the pipe Log to the logging process.
//
// The two share nothing but the pipe. A garbage collection, a slow commit or
// a crash of the logging process cannot hold up the pass-through; on a
// machine with no CPU to spare, a logger in the same process held it up for
// up to a second and a half, as the collector's stop-the-world waited for
// the logger's thread of idle priority to get a turn.
//
// The logging process may fall behind by MaxPending bytes, held here, plus
// what the pipe holds. Past that, passer waits for it as a Copier waits for
// its logger: for at most StallLimit, after which input is passed through but
// not sent, and the logging process is told of the gap.
//
// While the logging process says it is starved ('M' on Control), not merely
// busy, it may fall behind by MaxStarved instead. On a machine with no CPU
// to spare, its logger waits about a second for its thread of idle priority
// to get a turn before moving to an ordinary one, and 10 KB lines at one a
// millisecond filled the ~13 MiB between the two processes first: the
// pass-through stalled for 0.1-1 s. Any other time, MaxPending keeps the
// memory that a fast stream costs small. 'L' on Control ends it.
type passer struct {
	In, Out int // file descriptors
	Log     int // write end of the pipe to the logging process; Run closes it

	BufSize    int // largest read
	MaxPending int
	StallLimit time.Duration

	Control    int // read end of the logging process's messages; 0 (stdin) for none
	MaxStarved int
	Now        func() int64

	// OutErr is called once with the first write error on Out that is not
	// a closed pipe (which is expected, and silent).
	OutErr func(error)

	// Stats, valid after Run.
	OutClosed   bool
	SkippedRuns int  // times the logging process fell behind and input was skipped
	LogGone     bool // the logging process stopped reading before the end frame

	pending []byte // frames not yet written to Log, from off on
	off     int
	starved bool // the logging process said 'M', and since then it has not caught up
	said    byte // its last word: 'M' or 'L'
}

// writeHello opens the relay stream on fd: the frame that tells the logging
// process that the passer is there. Run sends the rest.
func writeHello(fd int) error {
	hello := appendFrame(nil, kindHello, 0, []byte(relayHello))
	for len(hello) > 0 {
		n, err := unix.Write(fd, hello)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		hello = hello[n:]
	}
	return nil
}

// Run copies until EOF or a read error, then sends what is pending and the
// end frame, waiting as long as the logging process takes to read them, and
// closes Log. A read error other than EOF is returned; the stream is still
// ended properly.
func (r *passer) Run() error {
	if r.BufSize <= 0 {
		r.BufSize = 256 << 10
	}
	if r.MaxPending <= 0 {
		r.MaxPending = 4 << 20
	}
	if r.MaxStarved < r.MaxPending {
		r.MaxStarved = max(r.MaxPending, 64<<20)
	}
	if r.StallLimit <= 0 {
		r.StallLimit = 10 * time.Second
	}
	if r.Now == nil {
		r.Now = func() int64 { return time.Now().UnixMilli() }
	}
	defer unix.Close(r.Log)
	if err := unix.SetNonblock(r.Log, true); err != nil {
		r.LogGone = true
	}
	if r.Control > 0 && unix.SetNonblock(r.Control, true) != nil {
		r.Control = 0
	}

	// Each read lands behind room for its frame header, so that a frame
	// goes out in one write without a copy.
	buf := make([]byte, frameHeader+r.BufSize)
	var (
		skipping bool
		gapNL    int64
		gapEOL   bool
		gap      bool
	)
	for {
		n, err := r.read(buf[frameHeader:])
		if n > 0 {
			now := r.Now()
			frame := buf[:frameHeader+n]
			data := frame[frameHeader:]
			r.write(data)
			if !r.LogGone {
				r.flush()
				if r.size() >= r.MaxPending {
					r.readControl()
				} else if r.starved && r.said == 'L' {
					// Caught up after a starved spell.
					r.starved = false
				}
				if skipping && r.size() < r.limit() {
					skipping = false
				}
				if !skipping && r.size() >= r.limit() && !r.drain(time.Now().Add(r.StallLimit)) {
					skipping = true
					r.SkippedRuns++
				}
				if skipping {
					gap = true
					gapNL += int64(bytes.Count(data, []byte{'\n'}))
					gapEOL = data[n-1] == '\n'
				} else {
					if gap {
						r.queue(appendGap(nil, gapNL, gapEOL))
						gap, gapNL = false, 0
					}
					putHeader(frame, kindData, n, now)
					r.send(frame)
				}
			}
		}
		if err != nil {
			if gap {
				r.queue(appendGap(nil, gapNL, gapEOL))
			}
			r.queue(appendFrame(nil, kindEnd, 0, nil))
			for !r.LogGone && r.size() > 0 {
				r.drain(time.Time{})
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// read reads from In. While frames are pending it waits for Log's room as
// well, so that the logging process is never kept waiting for bytes that are
// here, however long the input stays quiet.
func (r *passer) read(p []byte) (int, error) {
	for {
		if r.size() > 0 && !r.LogGone {
			fds := []unix.PollFd{{Fd: int32(r.In), Events: unix.POLLIN}, {Fd: int32(r.Log), Events: unix.POLLOUT}}
			if _, err := unix.Poll(fds, -1); err != nil {
				if err == unix.EINTR {
					continue
				}
				return 0, err
			}
			if fds[1].Revents != 0 {
				r.flush()
			}
			if fds[0].Revents == 0 {
				continue
			}
		}
		n, err := unix.Read(r.In, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			// A non-blocking stdin (its flags are shared with whoever else
			// has it open): wait until it has something.
			if err := waitFD(r.In, unix.POLLIN, -1); err != nil {
				return 0, err
			}
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// write writes p to Out. A closed Out stops the writing, not the reading.
func (r *passer) write(p []byte) {
	for len(p) > 0 && !r.OutClosed {
		n, err := unix.Write(r.Out, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if waitFD(r.Out, unix.POLLOUT, -1) == nil {
				continue
			}
			fallthrough
		case err != nil:
			r.OutClosed = true
			if err != unix.EPIPE && r.OutErr != nil {
				r.OutErr(err)
			}
			return
		}
		p = p[n:]
	}
}

// send sends a frame: at once when nothing is pending, as it almost always
// is; what the pipe has no room for is kept.
func (r *passer) send(frame []byte) {
	if r.size() > 0 {
		r.queue(frame)
		r.flush()
		return
	}
	n := r.writeLog(frame)
	if n < len(frame) && !r.LogGone {
		r.queue(frame[n:])
	}
}

func (r *passer) size() int { return len(r.pending) - r.off }

// limit is how far the logging process may fall behind now.
func (r *passer) limit() int {
	if r.starved {
		return r.MaxStarved
	}
	return r.MaxPending
}

// readControl takes what the logging process has said, without waiting.
func (r *passer) readControl() {
	if r.Control <= 0 {
		return
	}
	var b [64]byte
	for {
		n, err := unix.Read(r.Control, b[:])
		if err == unix.EINTR {
			continue
		}
		if n <= 0 {
			if err == nil {
				// Closed: the session is ending.
				r.Control, r.said = 0, 'L'
			}
			return
		}
		for _, c := range b[:n] {
			switch c {
			case 'M':
				r.starved, r.said = true, 'M'
			case 'L':
				// The room stays until what it holds has gone, so that the
				// input is not held up while the logging process catches up.
				r.said = 'L'
			}
		}
	}
}

// queue keeps bytes for Log, after those already pending.
func (r *passer) queue(b []byte) {
	if r.off > 0 && r.off == len(r.pending) {
		r.pending, r.off = r.pending[:0], 0
	}
	slack := frameHeader + r.BufSize + 64 // the read that went past the limit, and a gap frame
	if r.pending == nil {
		// Room for the most that can be pending at once; pages are only
		// used as they are written to.
		r.pending = make([]byte, 0, max(r.MaxPending, r.MaxStarved)+slack)
	}
	// Moved to the front past the limit of the moment, not the end of the
	// room, so that only MaxPending of it is ever touched unless the
	// logging process is starved.
	if len(r.pending)+len(b) > r.limit()+slack && r.off > 0 {
		n := copy(r.pending, r.pending[r.off:])
		r.pending, r.off = r.pending[:n], 0
	}
	r.pending = append(r.pending, b...)
}

// flush writes what is pending, as much as the pipe takes now.
func (r *passer) flush() {
	if r.size() == 0 {
		return
	}
	r.off += r.writeLog(r.pending[r.off:])
	if r.LogGone {
		r.pending, r.off = nil, 0
	}
}

// writeLog writes to Log without waiting and returns how much it took. A
// broken pipe means the logging process is gone: nothing more is sent.
func (r *passer) writeLog(b []byte) int {
	done := 0
	for done < len(b) && !r.LogGone {
		n, err := unix.Write(r.Log, b[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return done
		case err != nil:
			r.LogGone = true
		}
	}
	return done
}

// drain waits for Log to take pending bytes until fewer than MaxPending are
// left (or none, with a zero deadline: then it waits as long as it takes). It
// reports whether it got there before the deadline.
func (r *passer) drain(deadline time.Time) bool {
	for !r.LogGone {
		target := r.limit()
		if deadline.IsZero() {
			target = 1
		}
		if r.size() < target {
			break
		}
		timeout := -1
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return false
			}
			timeout = int(left.Milliseconds()) + 1
		}
		fds := []unix.PollFd{{Fd: int32(r.Log), Events: unix.POLLOUT}, {Fd: int32(r.Control), Events: unix.POLLIN}}
		if r.Control <= 0 || deadline.IsZero() {
			fds = fds[:1]
		}
		if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
			r.LogGone = true
			break
		}
		if len(fds) > 1 && fds[1].Revents != 0 {
			r.readControl()
		}
		r.flush()
	}
	return true
}

// waitFD polls one descriptor; a timeout is not an error.
func waitFD(fd int, events int16, timeout int) error {
	for {
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: events}}, timeout)
		if err != unix.EINTR {
			return err
		}
	}
}
