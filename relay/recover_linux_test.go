package relay

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/convlog/convlog/stream"
)

// A passer that dies at any of the moments that matter (a read made and
// not written out, a write to stdout cut short, a frame made and not
// committed, a frame sent in part), with a small ring that starts new runs
// all the time and a logging side so slow that it is skipped now and then:
// what recoverRing makes of its memory and counts, followed by the rest of
// stdin, is the input, on stdout and in the log. The counts are those tee
// gets from the kernel: here, what the pipes took and still hold.
func TestRecoverRing(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	deaths, skipped, runs := 0, 0, 0
	for i := range 100 {
		d := recoverOnce(t, rng, fmt.Sprint(i))
		deaths += d.died
		skipped += d.skipped
		runs += d.runs
	}
	// The test must have seen what it is about.
	if deaths < 60 || skipped == 0 || runs == 0 {
		t.Fatalf("%d deaths, %d while skipping, %d with two runs in the ring", deaths, skipped, runs)
	}
}

type recovered struct{ died, skipped, runs int }

// counted is one end of a pipe, with what went through it counted.
type counted struct {
	mu   sync.Mutex
	fd   int
	n    int64
	got  []byte
	stop bool
}

func recoverOnce(t *testing.T, rng *rand.Rand, name string) (res recovered) {
	input := mixedLines(rng, 0, 150<<10+rng.IntN(150<<10))
	// Raw descriptors, in non-blocking mode (os.File.Fd would put them
	// back in blocking mode).
	var fds [6]int
	for i := range 3 {
		if err := unix.Pipe2(fds[2*i:2*i+2], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
	}
	inR, inW, outR, outW, logR, logW := fds[0], fds[1], fds[2], fds[3], fds[4], fds[5]
	defer func() {
		for _, fd := range []int{inR, outR, outW, logR, logW} {
			unix.Close(fd)
		}
	}()
	// Small pipes, so that writes stop part way.
	for _, fd := range []int{outW, logW} {
		unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, 4096)
	}
	logDup, err := unix.Dup(logW)
	if err != nil {
		t.Fatal(err)
	}
	r := &passer{In: inR, Out: outW, Log: logDup,
		BufSize: 4096, MaxPending: 8 << 10, MaxStarved: 8 << 10, StallLimit: time.Millisecond}
	r.Mem = make([]byte, ringSize(r.BufSize, r.MaxStarved))
	hello, err := writeHello(r.Log, helloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	r.Start = int64(hello)
	calls, at := 0, 1+rng.IntN(600)
	r.die = func() bool {
		calls++
		if calls < at {
			return false
		}
		// The state as the process leaves it.
		st, _, _, _ := readRing(r.Mem)
		if st.Skip || st.GapOpen {
			res.skipped++
		}
		if st.Run0 < st.Run1 && r.sent < st.Run1 {
			res.runs++
		}
		res.died++
		return true
	}

	// Each goroutine has a source of its own.
	rngs := make([]*rand.Rand, 3)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	}
	in := &counted{fd: inW}
	out := &counted{fd: outR}
	logged := &counted{fd: logR}
	var wg sync.WaitGroup
	// The input in pieces of every size; stdout and the relay pipe read
	// in pieces as well, the relay pipe slowly.
	wg.Go(func() {
		rng := rngs[0]
		// Closed at the end of the input, or when the process is dead.
		defer unix.Close(inW)
		for off := 0; off < len(input); {
			p := 1 + rng.IntN(8192)
			in.mu.Lock()
			if in.stop {
				in.mu.Unlock()
				return
			}
			n, _ := unix.Write(in.fd, input[off:min(len(input), off+p)])
			if n > 0 {
				off += n
				in.n += int64(n)
			}
			in.mu.Unlock()
			waitFD(in.fd, unix.POLLOUT, 1)
		}
	})
	reader := func(c *counted, rng *rand.Rand, pause time.Duration) {
		buf := make([]byte, 8192)
		for {
			c.mu.Lock()
			if c.stop {
				c.mu.Unlock()
				return
			}
			n, _ := unix.Read(c.fd, buf[:1+rng.IntN(len(buf)-1)])
			if n > 0 {
				c.n += int64(n)
				c.got = append(c.got, buf[:n]...)
			}
			c.mu.Unlock()
			waitFD(c.fd, unix.POLLIN, 1)
			if pause > 0 {
				time.Sleep(pause) // a slow reader
			}
		}
	}
	wg.Go(func() { reader(out, rngs[1], 0) })
	wg.Go(func() { reader(logged, rngs[2], 200*time.Microsecond) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the passer is stuck")
	}
	for _, c := range []*counted{in, out, logged} {
		c.mu.Lock()
		c.stop = true
		c.mu.Unlock()
	}
	wg.Wait()
	if res.died == 0 {
		return res // it got to the end first
	}
	// What the pipes still hold was taken from stdin, or written.
	rest := func(c *counted) []byte {
		b := make([]byte, pending(t, c.fd))
		if n, err := unix.Read(c.fd, b); len(b) > 0 && (err != nil || n != len(b)) {
			t.Fatalf("%s: read %d of the %d bytes a pipe holds: %v", name, n, len(b), err)
		}
		return b
	}
	read := in.n - int64(pending(t, inR))
	stdout := append(out.got, rest(out)...)
	relayed := append(logged.got, rest(logged)...)
	rep := recoverRing(r.Mem, read, int64(len(stdout)), int64(len(relayed)))
	if !rep.ok {
		st, _, _, _ := readRing(r.Mem)
		t.Fatalf("%s: died at call %d: %v; read %d, stdout %d (%d read, %d pending), state %+v", name, at, rep.why, read, len(stdout), len(out.got), len(stdout)-len(out.got), st)
	}
	if got := append(stdout, rep.rest...); !bytes.Equal(got, input[:read]) {
		t.Fatalf("%s: stdout and the rest are %d bytes, the input read %d", name, len(got), read)
	}
	if rep.pass.Bytes != int64(len(stdout)) || rep.pass.Newlines != int64(bytes.Count(stdout, newline)) {
		t.Fatalf("%s: passed %+v, stdout %d bytes and %d newlines", name, rep.pass, len(stdout), bytes.Count(stdout, newline))
	}

	// tee's Copier reads what came down the pipe, then what recoverRing
	// rebuilt, then stdin from where the process stopped.
	tail, _ := io.ReadAll(rep.tail)
	rr := newRelayReader(bytes.NewReader(append(relayed, tail...)))
	if err := rr.readHello(); err != nil {
		t.Fatal(err)
	}
	h := NewHandover(bytes.NewReader(input[read:]), io.Discard)
	h.offerRelay(rr, io.Discard, nil)
	c := &stream.Copier{In: h, Out: h, Now: h.Now}
	chunks := make(chan *stream.Chunk, 64)
	rec := &recorder{}
	proc := stream.NewProcessor(rec)
	l := &stream.Logger{Proc: proc, Commit: func(*stream.Facts) {}}
	logDone := make(chan struct{})
	go func() { l.Run(chunks); close(logDone) }()
	if err := c.Run(chunks); err != nil {
		t.Fatal(err)
	}
	<-logDone
	if !h.TookBack.Load() && read < int64(len(input)) {
		// (A process that had sent its end frame had passed all on.)
		t.Fatalf("%s: the stream was not taken back", name)
	}
	lines := bytes.Split(input, newline)
	facts := proc.Totals()
	if int64(len(rec.msgs))+facts.DroppedByInput != int64(len(lines)) {
		t.Fatalf("%s: %d lines logged, %d dropped, of %d", name, len(rec.msgs), facts.DroppedByInput, len(lines))
	}
	j := 0
	for _, m := range rec.msgs {
		for j < len(lines) && !bytes.Equal(lines[j], m.Raw) {
			j++
		}
		if j == len(lines) {
			t.Fatalf("%s: logged %.60q, not an input line in order", name, m.Raw)
		}
		j++
	}
	if facts.DroppedByInput == 0 && len(rec.msgs) != len(lines) {
		t.Fatalf("%s: %d lines logged of %d", name, len(rec.msgs), len(lines))
	}
	return res
}

// pending is how many bytes wait in pipe fd.
func pending(t *testing.T, fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A pass-through process dead before it laid the shared memory out, or
// read anything: nothing to take back, and no reason to say that something
// may be lost.
func TestRecoverRingBeforeItBegan(t *testing.T) {
	mem := make([]byte, ringSize(4096, 8<<10))
	hello := int64(len(appendHello(nil, helloInfo{})))
	rep := recoverRing(mem, 0, 0, hello)
	if !rep.ok || len(rep.rest) > 0 || rep.pass.Bytes != 0 {
		t.Fatalf("ok %v (%v), rest %q, passed %+v", rep.ok, rep.why, rep.rest, rep.pass)
	}
	rr := newRelayReader(bytes.NewReader(appendHello(nil, helloInfo{})))
	rr.readHello()
	rr.r.Reset(rep.tail)
	if _, err := rr.Read(make([]byte, 8)); err != errTakenBack {
		t.Fatalf("the rebuilt stream ends with %v", err)
	}
	// Had it read a byte, that could not be known.
	if rep := recoverRing(mem, 1, 0, hello); rep.ok {
		t.Fatal("a read with no state to say where it went was taken back")
	}
}
