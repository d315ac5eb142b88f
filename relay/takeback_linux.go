//go:build linux

package relay

import (
	"bytes"
	"fmt"
	"io"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// deathReport is what tee makes of a dead pass-through process: how far it
// got, from the kernel's totals of its I/O and the state it left in the
// shared memory.
//
// The kernel counts, in rchar and wchar of /proc/<pid>/io, every byte that a
// read(2) returned and a write(2) took, partial writes included, inside the
// call: a process killed the instant a call returns has it counted. From its
// hello on the process reads only stdin and fd 4, and writes only stdout,
// fd 3 and stderr (Main), so that
//
//	read from stdin = rchar − rchar at the hello − what it read of fd 4
//	written to stdout = wchar − wchar at the hello − what it wrote to fd 3 and stderr
//
// where tee counts fd 4 (what it wrote, less what is still in the pipe) and
// fd 3 and stderr (all it read of them, to their end). Every byte read is in
// the shared memory: the bytes past what the state accounts for (Input) are
// those of the read being made, where the state says it lands.
type deathReport struct {
	ok   bool
	why  error
	st   ringState
	rest []byte    // what the process read and did not write out
	tail io.Reader // the relay stream from where the pipe stopped, ending with a take-back frame
	mem  []byte    // the shared memory, mapped
	pass Passed    // what the process wrote to stdout
}

// deathWait bounds the wait for the signs of a death that has happened:
// the end of stderr, and the process's exit.
const deathWait = 10 * time.Second

// death makes the report, once; the process must be dead or dying.
func (c *child) death() *deathReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.report == nil {
		c.report = c.makeReport()
	}
	return c.report
}

func (c *child) makeReport() *deathReport {
	r := &deathReport{}
	fail := func(format string, args ...any) *deathReport {
		r.ok, r.why = false, fmt.Errorf(format, args...)
		return r
	}
	timeout := time.NewTimer(deathWait)
	defer timeout.Stop()
	select {
	case <-c.exited:
	case <-timeout.C:
		return fail("the process did not end")
	}
	if c.io.err != nil {
		return fail("the totals of its I/O: %v", c.io.err)
	}
	select {
	case <-c.stderr.done:
	case <-timeout.C:
		return fail("its stderr did not end")
	}
	control, err := c.control.taken()
	if err != nil {
		return fail("fd 4: %v", err)
	}
	pipe, err := c.src.total()
	if err != nil {
		return fail("fd 3: %v", err)
	}
	mem, err := unix.Mmap(int(c.mem.Fd()), 0, c.memSize, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fail("the shared memory: %v", err)
	}
	read := c.io.rchar - c.said.Read - control
	written := c.io.wchar - c.said.Written - pipe - (c.stderr.n - c.stderr.before)
	r = recoverRing(mem, read, written, pipe)
	r.mem = mem
	if r.ok {
		r.tail = &released{Reader: r.tail, release: c.release}
	}
	return r
}

// recoverRing makes the report from the state a dead pass-through process
// left in mem, and how many bytes it read from stdin, wrote to stdout and
// sent down the relay pipe from its hello on (the hello included in pipe).
func recoverRing(mem []byte, read, written, pipe int64) *deathReport {
	r := &deathReport{}
	fail := func(format string, args ...any) *deathReport {
		r.ok, r.why = false, fmt.Errorf(format, args...)
		return r
	}
	st, scratch, data, err := readRing(mem)
	if err != nil {
		if read == 0 && written == 0 && pipe == frameHeader+int64(helloPayload) {
			// Dead before it did anything, perhaps before it had laid
			// the shared memory out: nothing to take back.
			r.ok, r.pass = true, Passed{LastNL: true}
			r.tail = bytes.NewReader(appendFrame(nil, kindTakeBack, 0, nil))
			return r
		}
		return fail("%v", err)
	}
	r.st = st

	// The read being made: u bytes read past Input, of which w were written.
	u, w := read-st.Input, written-st.Out
	switch {
	case u < 0 || u > int64(len(scratch)):
		return fail("it read %d bytes, %d past what it accounted for", read, u)
	case w < 0 || w > u || (st.OutClosed && w > 0):
		return fail("it wrote %d bytes to stdout, %d past what it accounted for", written, w)
	case pipe < st.Run0 || pipe > st.End || st.Run0 > st.Run1 || st.Run1 > st.End:
		return fail("it sent %d bytes; the ring holds %d to %d", pipe, st.Run0, st.End)
	case st.End-st.Run1 > int64(len(data)) || st.Run1-st.Run0 > int64(len(data)):
		return fail("the ring's runs are out of it")
	}
	var inflight []byte
	if st.Skip {
		inflight = scratch[:u]
	} else {
		at := st.landing()
		if at+u > int64(len(data)) {
			return fail("the read lands out of the ring")
		}
		inflight = data[at : at+u]
	}
	r.pass = Passed{Bytes: st.Out + w, Newlines: st.OutNL + int64(bytes.Count(inflight[:w], newline)), LastNL: st.OutLastNL}
	if w > 0 {
		r.pass.LastNL = inflight[w-1] == '\n'
	}
	if !st.OutClosed {
		r.rest = bytes.Clone(inflight[w:])
	}

	// The frames not sent in full, from the ring, then what the process
	// had not made into frames: the open gap, the read being made.
	var parts []io.Reader
	if pipe < st.Run1 {
		parts = append(parts, bytes.NewReader(data[pipe-st.Run0:st.Run1-st.Run0]))
	}
	parts = append(parts, bytes.NewReader(data[max(pipe, st.Run1)-st.Run1:st.End-st.Run1]))
	var end []byte
	if st.GapOpen || (st.Skip && u > 0) {
		nl, eol := st.GapNL, st.GapEOL
		if st.Skip && u > 0 {
			nl += int64(bytes.Count(inflight, newline))
			eol = inflight[u-1] == '\n'
		}
		end = appendGap(end, nl, eol)
	}
	if !st.Skip && u > 0 {
		end = appendFrame(end, kindData, time.Now().UnixMilli(), inflight)
	}
	end = appendFrame(end, kindTakeBack, 0, nil)
	parts = append(parts, bytes.NewReader(end))
	r.tail = io.MultiReader(parts...)
	r.ok = true
	return r
}

// accept is called when the Handover takes the pass-through over: if the
// process dies, its stream goes on with takeBack's.
func (c *child) accept(h *Handover) {
	c.src.mu.Lock()
	c.src.onEOF = func() io.Reader { return c.takeBack(h) }
	c.src.mu.Unlock()
}

// takeBack is called at the end of a relay stream that had no end frame: the
// process has died. It writes to stdout what the process read and did not
// write, and returns the rest of the relay stream, which ends with a
// take-back frame; or nil, if how far the process got cannot be known.
func (c *child) takeBack(h *Handover) io.Reader {
	r := c.death()
	if !r.ok {
		h.lost = r.why
		return nil
	}
	if r.st.OutClosed {
		// The process said why, unless the reader had gone: then, as
		// for tee, nothing is said.
		h.outErr = syscall.EPIPE
	} else if len(r.rest) > 0 {
		h.wroteAfter.Store(true)
		if _, err := h.Out.Write(r.rest); err != nil {
			h.outErr = err
		}
	}
	return r.tail
}

// halt kills the process, if it still runs, and reports what it wrote to
// stdout.
func (c *child) halt() (Passed, error) {
	c.cmd.Process.Kill()
	r := c.death()
	if !r.ok {
		return Passed{}, r.why
	}
	return r.pass, nil
}

// release frees the shared memory, once nothing more is read from it.
func (c *child) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.report != nil && c.report.mem != nil {
		unix.Munmap(c.report.mem)
		c.report.mem = nil
	}
	if c.mem != nil {
		c.mem.Close()
		c.mem = nil
	}
	if c.control.r != nil {
		c.control.r.Close()
	}
}

// released is a Reader that calls release at its end.
type released struct {
	io.Reader
	release func()
}

func (r *released) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF && r.release != nil {
		r.release()
		r.release = nil
	}
	return n, err
}
