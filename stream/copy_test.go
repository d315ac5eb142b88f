package stream

import (
	"bytes"
	"errors"
	"io"
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
	s := &script{parts: []string{"a\nb", "c\nd\ne", "f\ng\n", "h\n"}}
	// The logger holds the only buffer until the third read: the second and
	// third reads find no buffer and are passed through but not logged.
	s.before = map[int]func(){2: func() { (<-chunks).Release() }}
	var out bytes.Buffer
	c := &Copier{In: s, Out: &out, BufSize: 64, Buffers: 1, StallLimit: time.Millisecond}
	if err := c.Run(chunks); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nbc\nd\nef\ng\nh\n" {
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
	replay <- &Chunk{Data: []byte("a\nb"), Time: 1}
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
