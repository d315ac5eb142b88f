package stream

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// chunked splits s into chunks of n bytes, so that lines straddle them, and
// returns a closed channel holding them.
func chunked(s string, n int) chan *Chunk {
	chunks := make(chan *Chunk, len(s)/n+1)
	for len(s) > 0 {
		k := min(n, len(s))
		chunks <- &Chunk{Data: []byte(s[:k]), Time: 1000}
		s = s[k:]
	}
	close(chunks)
	return chunks
}

// A logger that leaves part way through (as it does when its thread of idle
// priority is starved) is carried on by the next run with nothing lost,
// doubled or reordered, and the batch it had open is committed by the run
// that finishes.
func TestLoggerLeavesAndCarriesOn(t *testing.T) {
	var in strings.Builder
	for i := range 40 {
		fmt.Fprintf(&in, `{"type":"assistant","seq":%d}`+"\n", i)
	}
	chunks := chunked(in.String(), 7)
	r := &recorder{}
	commits := 0
	l := &Logger{Proc: NewProcessor(r), Commit: func(*Facts) { commits++ }}
	asked := 0
	if !l.run(chunks, func() bool { asked++; return asked == 30 }) {
		t.Fatal("run did not leave when asked to")
	}
	if commits != 0 {
		t.Fatalf("a run that leaves committed %d times; the batch belongs to the next run", commits)
	}
	before := len(r.msgs)
	if before == 0 || before >= 40 {
		t.Fatalf("the first run logged %d of 40 lines; the test needs it to stop part way", before)
	}
	if l.run(chunks, nil) {
		t.Fatal("a run without leave left")
	}
	if commits != 1 {
		t.Fatalf("%d commits at the end, want 1", commits)
	}
	if len(r.msgs) != 40 {
		t.Fatalf("logged %d lines, want 40", len(r.msgs))
	}
	for i, m := range r.msgs {
		if want := fmt.Sprintf(`{"type":"assistant","seq":%d}`, i); string(m.Raw) != want {
			t.Fatalf("line %d is %s, want %s", i, m.Raw, want)
		}
	}
}

// Pause is called once per pause in the input, after the lines before it
// are committed, and again after the next pause.
func TestLoggerPause(t *testing.T) {
	r := &recorder{}
	var committed int // lines committed, read by Pause on the logger's goroutine
	paused := make(chan int, 4)
	l := &Logger{
		Proc:       NewProcessor(r),
		Commit:     func(*Facts) { committed = len(r.msgs) },
		Linger:     time.Millisecond,
		PauseAfter: 20 * time.Millisecond,
		Pause:      func() { paused <- committed },
	}
	chunks := make(chan *Chunk)
	done := make(chan struct{})
	go func() { l.Run(chunks); close(done) }()
	line := func(i int) *Chunk {
		return &Chunk{Data: fmt.Appendf(nil, `{"type":"assistant","seq":%d}`+"\n", i), Time: 1000}
	}
	wait := func(want int) {
		t.Helper()
		select {
		case got := <-paused:
			if got != want {
				t.Fatalf("Pause came with %d lines committed, want %d", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no Pause after %d lines", want)
		}
	}
	for i := range 3 {
		chunks <- line(i)
	}
	wait(3)
	chunks <- line(3)
	wait(4)
	// One pause, one call: none in the next five PauseAfters.
	select {
	case got := <-paused:
		t.Fatalf("a second Pause in one pause (%d lines committed)", got)
	case <-time.After(5 * l.PauseAfter):
	}
	close(chunks)
	<-done
}
