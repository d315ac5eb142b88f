//go:build unix

package relay

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// passer is the pass-through process of `convlog tee` when the logging runs in
// a process of its own: it copies In to Out byte for byte and sends every
// read, framed (see relayReader), down the pipe Log to the logging process.
//
// The two share nothing but the pipe and the memory the input is read into
// (ring). A garbage collection, a slow commit or a crash of the logging
// process cannot hold up the pass-through; on a machine with no CPU to
// spare, a logger in the same process held it up for up to a second and a
// half, as the collector's stop-the-world waited for the logger's thread of
// idle priority to get a turn. And the passer can die at any moment: every
// byte it took from In is in the shared memory, with a state that says what
// became of it (ringState), so that tee carries on from the very byte Out
// got last (takeBack).
//
// The logging process may fall behind by MaxPending bytes, held in the ring,
// plus what the pipe holds. Past that, passer waits for it as a Copier waits
// for its logger: for at most StallLimit, after which input is passed
// through but not sent, and the logging process is told of the gap.
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

	// Mem is the memory the input is read into, shared with the logging
	// process (see ring); nil, Run allocates its own. Start is the length
	// of the stream sent before Run: the hello.
	Mem   []byte
	Start int64

	// OutErr is called once with the first write error on Out that is not
	// a closed pipe (which is expected, and silent).
	OutErr func(error)

	// Stats, valid after Run.
	OutClosed   bool
	SkippedRuns int  // times the logging process fell behind and input was skipped
	LogGone     bool // the logging process stopped reading before the end frame

	// die, if set, is asked at the moments a process could be killed that
	// matter to takeBack: yes ends Run's goroutine there (runtime.Goexit).
	die func() bool

	ring    *ring
	st      ringState // committed before every read, and before what it describes is sent
	sent    int64     // the stream position up to which frames have been written to Log
	starved bool      // the logging process said 'M', and since then it has not caught up
	said    byte      // its last word: 'M' or 'L'
}

// writeHello opens the relay stream on fd: the frame that tells the logging
// process that the passer is there. Run sends the rest. It returns the
// frame's length.
func writeHello(fd int, h helloInfo) (int, error) {
	b := appendHello(nil, h)
	for done := 0; done < len(b); {
		n, err := unix.Write(fd, b[done:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return len(b), nil
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
	if r.Mem == nil {
		r.Mem = make([]byte, ringSize(r.BufSize, r.MaxStarved))
	}
	r.st = ringState{End: r.Start, Run0: r.Start, Run1: r.Start, OutLastNL: true}
	r.sent = r.Start
	ring, err := newRing(r.Mem, r.BufSize, &r.st)
	if err != nil {
		return err
	}
	r.ring = ring
	// The ring bounds what may be pending.
	room := len(ring.data) - ringSlack(r.BufSize)
	r.MaxStarved = min(r.MaxStarved, room)
	r.MaxPending = min(r.MaxPending, r.MaxStarved)
	if err := unix.SetNonblock(r.Log, true); err != nil {
		r.LogGone = true
	}
	if r.Control > 0 && unix.SetNonblock(r.Control, true) != nil {
		r.Control = 0
	}

	for {
		r.prepare()
		r.ring.commit(&r.st)
		var (
			p   []byte
			off int64
		)
		if r.st.Skip {
			p = r.ring.scratch
		} else {
			off = r.st.landing()
			p = r.ring.data[off : off+int64(r.BufSize)]
		}
		n, err := r.read(p)
		if n > 0 {
			r.dying()
			now := r.Now()
			data := p[:n]
			nl := bytes.Count(data, newline)
			r.write(data, nl)
			r.dying()
			r.st.Input += int64(n)
			if !r.st.Skip {
				putHeader(r.ring.data[off-frameHeader:off], kindData, n, now)
				r.st.End += frameHeader + int64(n)
			} else if !r.LogGone {
				r.st.GapOpen = true
				r.st.GapNL += int64(nl)
				r.st.GapEOL = data[n-1] == '\n'
			}
			r.dying()
			r.ring.commit(&r.st)
			r.flush()
		}
		if err != nil {
			r.end()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

var newline = []byte{'\n'}

// dying ends the goroutine here if die says so.
func (r *passer) dying() {
	if r.die != nil && r.die() {
		runtime.Goexit()
	}
}

// need is the room a data read takes in the ring.
func (r *passer) need() int { return frameHeader + r.BufSize }

// prepare decides where the next read lands: behind the frames pending, or,
// while the logging process is too far behind, in the scratch area.
func (r *passer) prepare() {
	if r.LogGone {
		r.st.Skip, r.st.GapOpen = true, false
		return
	}
	r.flush()
	if r.size() >= r.MaxPending {
		r.readControl()
	} else if r.starved && r.said == 'L' {
		// Caught up after a starved spell.
		r.starved = false
	}
	if r.sent == r.st.End && r.st.End > r.st.Run1 {
		// All sent: back to the start of the ring, so that a stream the
		// logging process keeps up with touches only a little of it.
		r.st.Run0, r.st.Run1 = r.st.End, r.st.End
	}
	if r.st.Skip && r.size() < r.limit() && r.room(gapFrame) {
		r.closeGap()
		r.st.Skip = false
	}
	if !r.st.Skip && (r.size() >= r.limit() || !r.room(r.need())) && !r.drain(time.Now().Add(r.StallLimit)) {
		r.st.Skip = true
		r.SkippedRuns++
	}
}

// closeGap puts the open gap, if any, into a frame; there must be room.
func (r *passer) closeGap() {
	if r.st.GapOpen {
		r.append(appendGap(nil, r.st.GapNL, r.st.GapEOL))
		r.st.GapOpen, r.st.GapNL, r.st.GapEOL = false, 0, false
	}
}

// end sends the open gap and the end frame after what is pending, waiting
// for the logging process as long as it takes.
func (r *passer) end() {
	if r.LogGone {
		return
	}
	for !r.LogGone && !r.room(gapFrame+frameHeader) {
		r.wait(-1)
	}
	if r.LogGone {
		return
	}
	r.closeGap()
	r.st.Skip = true // no read is coming
	r.append(appendFrame(nil, kindEnd, 0, nil))
	r.ring.commit(&r.st)
	r.drain(time.Time{})
}

// append puts a frame at the end of the ring; room must have said yes.
func (r *passer) append(frame []byte) {
	copy(r.ring.data[r.st.End-r.st.Run1:], frame)
	r.st.End += int64(len(frame))
}

// room reports whether a frame of k bytes fits at the end of the ring,
// starting a new run at offset 0 if the current one cannot take it and the
// bytes there have been sent.
func (r *passer) room(k int) bool {
	end, need := r.st.End-r.st.Run1, int64(k)
	if r.sent < r.st.Run1 {
		// The older run still has bytes to send, from this offset on.
		return end+need <= r.sent-r.st.Run0
	}
	if end+need <= int64(r.top()) {
		return true
	}
	if need <= r.sent-r.st.Run1 {
		r.st.Run0, r.st.Run1 = r.st.Run1, r.st.End
		return true
	}
	return false
}

// top is how far into the ring a run may go now: only as far as the limit
// of the moment, so that only MaxPending of it is ever touched unless the
// logging process is starved.
func (r *passer) top() int {
	return min(len(r.ring.data), r.limit()+ringSlack(r.BufSize))
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

// write writes p, which holds nl newlines, to Out. A closed Out stops the
// writing, not the reading.
func (r *passer) write(p []byte, nl int) {
	if r.OutClosed {
		return
	}
	all := p
	for len(p) > 0 {
		n, err := unix.Write(r.Out, p)
		if n > 0 {
			p = p[n:]
		}
		if err == nil || err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			r.dying()
			if waitFD(r.Out, unix.POLLOUT, -1) == nil {
				continue
			}
		}
		r.OutClosed, r.st.OutClosed = true, true
		if err != unix.EPIPE && r.OutErr != nil {
			r.OutErr(err)
		}
		break
	}
	written := all[:len(all)-len(p)]
	if len(written) == 0 {
		return
	}
	if len(p) > 0 {
		nl = bytes.Count(written, newline)
	}
	r.st.Out += int64(len(written))
	r.st.OutNL += int64(nl)
	r.st.OutLastNL = written[len(written)-1] == '\n'
}

// size is how many bytes of frames are waiting to be sent.
func (r *passer) size() int { return int(r.st.End - r.sent) }

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

// flush writes the frames made, as much as the pipe takes now: the older
// run's, then the current one's. Nothing is sent before it is committed.
func (r *passer) flush() {
	r.ring.commit(&r.st)
	for r.sent < r.st.End && !r.LogGone {
		var b []byte
		if r.sent < r.st.Run1 {
			b = r.ring.data[r.sent-r.st.Run0 : r.st.Run1-r.st.Run0]
		} else {
			b = r.ring.data[r.sent-r.st.Run1 : r.st.End-r.st.Run1]
		}
		n := r.writeLog(b)
		r.sent += int64(n)
		if n < len(b) {
			r.dying()
			return
		}
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

// drain waits for Log to take pending bytes until fewer than the limit are
// left and a read has room in the ring (or none are left, with a zero
// deadline: then it waits as long as it takes). It reports whether it got
// there before the deadline.
func (r *passer) drain(deadline time.Time) bool {
	for !r.LogGone {
		if deadline.IsZero() {
			if r.size() == 0 {
				break
			}
		} else if r.size() < r.limit() && r.room(r.need()) {
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
		r.wait(timeout)
	}
	return true
}

// wait waits up to timeout ms (-1: for ever) for Log to take more, or for
// the logging process to say something, and takes either.
func (r *passer) wait(timeout int) {
	fds := []unix.PollFd{{Fd: int32(r.Log), Events: unix.POLLOUT}, {Fd: int32(r.Control), Events: unix.POLLIN}}
	if r.Control <= 0 || timeout < 0 {
		fds = fds[:1]
	}
	if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
		r.LogGone = true
		return
	}
	if len(fds) > 1 && fds[1].Revents != 0 {
		r.readControl()
	}
	r.flush()
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
