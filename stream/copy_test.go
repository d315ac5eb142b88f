package stream

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script is a reader that returns one string per Read and can run a hook
// before a given read.
type script struct {
	parts  []string
	before map[int]func()
	n      int
}

func (s *script) Read(p []byte) (int, error) {
	if f := s.before[s.n]; f != nil {
		f()
	}
	if s.n >= len(s.parts) {
		return 0, io.EOF
	}
	n := copy(p, s.parts[s.n])
	s.n++
	return n, nil
}

func TestCopierPassesEverything(t *testing.T) {
	in := strings.Repeat("{\"type\":\"x\"}\n", 1000) + "tail without newline"
	var out bytes.Buffer
	c := &Copier{In: strings.NewReader(in), Out: &out, BufSize: 7, Buffers: 2}
	chunks := make(chan *Chunk)
	r := &recorder{}
	l := &Logger{Proc: NewProcessor(r), Commit: func(*Facts) {}}
	done := make(chan struct{})
	go func() { l.Run(chunks); close(done) }()
	if err := c.Run(chunks); err != nil {
		t.Fatal(err)
	}
	<-done
	if out.String() != in {
		t.Fatal("pass-through differs from input")
	}
	if len(r.msgs) != 1001 || string(r.msgs[1000].Raw) != "tail without newline" || c.SkippedRuns != 0 {
		t.Fatalf("logged %d lines, skipped %d", len(r.msgs), c.SkippedRuns)
	}
}

func TestCopierSkipsWhenLoggerIsStuck(t *testing.T) {
	chunks := make(chan *Chunk, 10)
	s := &script{parts: []string{"a\nbcdef", "c\nd\ne", "f\ng\n", "h\n"}}
	// The first read all but fills the only buffer, and the logger holds it
	// until the third read: the second and third reads find no buffer and
	// are passed through but not logged.
	s.before = map[int]func(){2: func() { (<-chunks).Release() }}
	var out bytes.Buffer
	c := &Copier{In: s, Out: &out, BufSize: 8, Buffers: 1, StallLimit: time.Millisecond}
	if err := c.Run(chunks); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nbcdefc\nd\nef\ng\nh\n" {
		t.Fatalf("pass-through %q", out.String())
	}
	if c.SkippedRuns != 1 {
		t.Fatalf("skipped runs %d", c.SkippedRuns)
	}
	r := &recorder{}
	p := NewProcessor(r)
	// The first chunk was taken by the hook; replay it so the logger sees
	// the stream as it would have.
	replay := make(chan *Chunk, 10)
	replay <- &Chunk{Data: []byte("a\nbcdef"), Time: 1}
	for ch := range chunks {
		replay <- ch
	}
	close(replay)
	(&Logger{Proc: p, Commit: func(*Facts) {}}).Run(replay)
	var got []string
	for _, m := range r.msgs {
		got = append(got, string(m.Raw))
	}
	if strings.Join(got, "|") != "a|h" || p.Facts.DroppedByInput != 4 {
		t.Fatalf("logged %q, dropped %d (want a|h, 4)", got, p.Facts.DroppedByInput)
	}
}

// TestCopierPacksReads: small reads share a buffer, so a logger that holds
// on to many of them does not run the Copier out of buffers; the buffer is
// free again only once every chunk in it is released.
func TestCopierPacksReads(t *testing.T) {
	parts := make([]string, 12)
	for i := range parts {
		parts[i] = "abcd\n" // 12×5 bytes into one 80-byte buffer
	}
	chunks := make(chan *Chunk, len(parts))
	var out bytes.Buffer
	c := &Copier{In: &script{parts: parts}, Out: &out, BufSize: 80, Buffers: 1, StallLimit: time.Millisecond}
	if err := c.Run(chunks); err != nil {
		t.Fatal(err)
	}
	var got []*Chunk
	for ch := range chunks {
		got = append(got, ch)
	}
	if c.SkippedRuns != 0 || len(got) != len(parts) || out.String() != strings.Join(parts, "") {
		t.Fatalf("skipped %d runs, %d chunks; want 0, %d", c.SkippedRuns, len(got), len(parts))
	}
	for i, ch := range got {
		if string(ch.Data) != parts[i] || cap(ch.Data) != len(ch.Data) {
			t.Fatalf("chunk %d: %q (cap %d)", i, ch.Data, cap(ch.Data))
		}
		if len(c.pool) != 0 {
			t.Fatalf("buffer back in the pool with %d chunks still held", len(got)-i)
		}
		ch.Release()
	}
	if len(c.pool) != 1 {
		t.Fatal("buffer not back in the pool once every chunk was released")
	}
}

// TestCopierSkipsWhenTheChannelIsFull: reads are bounded by the channel as
// well as by the buffers; a logger that takes none for StallLimit costs
// lines, never the pass-through.
func TestCopierSkipsWhenTheChannelIsFull(t *testing.T) {
	chunks := make(chan *Chunk, 2)
	s := &script{parts: []string{"a\n", "b\n", "c\n", "d\n", "e\n"}}
	// Before the fifth read the logger takes everything queued.
	var taken []*Chunk
	s.before = map[int]func(){4: func() {
		taken = append(taken, <-chunks, <-chunks)
	}}
	var out bytes.Buffer
	c := &Copier{In: s, Out: &out, BufSize: 1024, Buffers: 4, StallLimit: time.Millisecond}
	if err := c.Run(chunks); err != nil {
		t.Fatal(err)
	}
	for ch := range chunks {
		taken = append(taken, ch)
	}
	if out.String() != "a\nb\nc\nd\ne\n" || c.SkippedRuns != 1 {
		t.Fatalf("pass-through %q, skipped runs %d", out.String(), c.SkippedRuns)
	}
	var logged []string
	for _, ch := range taken {
		logged = append(logged, string(ch.Data))
		if ch.Gap && ch.DroppedLines() != 2 {
			t.Fatalf("gap of %d lines, want 2", ch.DroppedLines())
		}
	}
	if strings.Join(logged, "") != "a\nb\ne\n" || !taken[2].Gap {
		t.Fatalf("logged %q (gap on the third chunk: %v)", logged, taken[2].Gap)
	}
}

type failWriter struct {
	err    error
	writes int
}

func (w *failWriter) Write(p []byte) (int, error) { w.writes++; return 0, w.err }

func TestCopierClosedStdout(t *testing.T) {
	for _, tc := range []struct {
		err      error
		reported bool
	}{{syscall.EPIPE, false}, {errors.New("disk on fire"), true}} {
		w := &failWriter{err: tc.err}
		var reported error
		c := &Copier{In: strings.NewReader("a\nb\nc\n"), Out: w, BufSize: 2, OutErr: func(err error) { reported = err }}
		chunks := make(chan *Chunk, 100)
		if err := c.Run(chunks); err != nil {
			t.Fatal(err)
		}
		n := 0
		for ch := range chunks {
			n += len(ch.Data)
		}
		// Input is read and handed on to the end; stdout is tried once.
		if n != 6 || w.writes != 1 || !c.OutClosed || (reported != nil) != tc.reported {
			t.Fatalf("%v: logged %d bytes, %d writes, reported %v", tc.err, n, w.writes, reported)
		}
	}
}

// TestCopierWaitsOutASlowLogger: a logger that takes a while over one line
// (a huge one) and then catches up holds the input back, as a pipe would,
// for up to StallLimit; nothing is skipped.
func TestCopierWaitsOutASlowLogger(t *testing.T) {
	const limit = time.Second
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	line := []byte(strings.Repeat("x", 999) + "\n")
	const lines = 2000 // 2 MB: far more than the pipe and the buffers hold
	go func() {
		for range lines {
			w.Write(line)
		}
		w.Close()
	}()
	chunks := make(chan *Chunk, 4)
	c := &Copier{In: r, Out: io.Discard, BufSize: 16 << 10, Buffers: 4, StallLimit: limit}
	done := make(chan error, 1)
	go func() { done <- c.Run(chunks) }()
	// The logger stops for 0.6 of the limit once the pipe has filled up.
	first := <-chunks
	time.Sleep(limit * 6 / 10)
	first.Release()
	n := len(first.Data)
	for ch := range chunks {
		n += len(ch.Data)
		ch.Release()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.SkippedRuns != 0 || n != lines*len(line) {
		t.Fatalf("%d runs skipped, %d of %d bytes handed on", c.SkippedRuns, n, lines*len(line))
	}
}
