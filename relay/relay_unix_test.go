//go:build unix

package relay

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/stream"
)

// relayPipes runs a passer over real pipes: input written by one goroutine,
// stdout and the relay read by others. readLog, when set, is called once the
// pass-through has delivered all of the input, and only then is the relay
// read: a logging process that takes nothing until then.
type relayRun struct {
	out      []byte
	facts    *stream.Facts
	logged   *recorder
	relayErr error // how the relay stream ended, as the Copier saw it
	r        *passer
}

func runRelay(t *testing.T, input []byte, r *passer, logLate, logGone bool) relayRun {
	t.Helper()
	inR, inW := pipe(t)
	outR, outW := pipe(t)
	logR, logW := pipe(t)
	r.In, r.Out, r.Log = fd(t, inR), fd(t, outW), dupFD(t, logW)
	logW.Close()
	// A test that goes wrong fails, rather than waits forever.
	outR.SetReadDeadline(time.Now().Add(20 * time.Second))
	logR.SetReadDeadline(time.Now().Add(20 * time.Second))
	hello, err := writeHello(r.Log, helloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	r.Start = int64(hello)
	if logGone {
		logR.Close()
	}

	go func() {
		// Pieces of every size, as an agent writes them.
		for i, p := 0, 1; i < len(input); i, p = i+p, p*3%8191+1 {
			inW.Write(input[i:min(len(input), i+p)])
		}
		inW.Close()
	}()
	passed := make(chan struct{})
	outDone := make(chan []byte)
	go func() {
		got := make([]byte, len(input))
		n, _ := io.ReadFull(outR, got)
		close(passed)
		rest, _ := io.ReadAll(outR)
		outDone <- append(got[:n], rest...)
	}()
	var run relayRun
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		if logGone {
			return
		}
		if logLate {
			<-passed
		}
		rr := newRelayReader(logR)
		if err := rr.readHello(); err != nil {
			run.relayErr = err
			return
		}
		c := &stream.Copier{In: rr, Out: io.Discard, Now: rr.Time}
		chunks := make(chan *stream.Chunk, 64)
		run.logged = &recorder{}
		proc := stream.NewProcessor(run.logged)
		l := &stream.Logger{Proc: proc, Commit: func(*stream.Facts) {}}
		done := make(chan struct{})
		go func() { l.Run(chunks); close(done) }()
		run.relayErr = c.Run(chunks)
		<-done
		run.facts = proc.Totals()
		logR.Close()
	}()
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run() }()
	select {
	case err := <-runDone:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the passer is stuck")
	}
	outW.Close()
	run.out = <-outDone
	<-logDone
	run.r = r
	return run
}

func pipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// fd is f's descriptor in blocking mode, as a process's stdin and stdout are.
func fd(t *testing.T, f *os.File) int { return int(f.Fd()) }

// dupFD is a descriptor of f's of its own, for a passer to close.
func dupFD(t *testing.T, f *os.File) int {
	n, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// relayInput is stream-json lines of every size, one of 600 KB, and a last
// line without '\n'.
func relayInput(lines int) []byte {
	var b bytes.Buffer
	for i := range lines {
		size := i * 37 % 3000
		if i == lines/2 {
			size = 600 << 10
		}
		fmt.Fprintf(&b, `{"type":"user","i":%d,"pad":"%s"}`+"\n", i, bytes.Repeat([]byte("x"), size))
	}
	b.WriteString(`{"type":"result"}`)
	return b.Bytes()
}

func TestRelayPassesAndRelaysEverything(t *testing.T) {
	input := relayInput(2000)
	before := time.Now().UnixMilli()
	run := runRelay(t, input, &passer{}, false, false)
	after := time.Now().UnixMilli()
	if !bytes.Equal(run.out, input) {
		t.Fatalf("pass-through: %d bytes, want %d", len(run.out), len(input))
	}
	if run.relayErr != nil {
		t.Fatalf("the relay ended with %v, want a clean end", run.relayErr)
	}
	if len(run.logged.msgs) != 2001 || run.facts.DroppedByInput != 0 || run.r.SkippedRuns != 0 || run.r.LogGone {
		t.Fatalf("logged %d of 2001 lines, dropped %d, skipped runs %d, log gone %v",
			len(run.logged.msgs), run.facts.DroppedByInput, run.r.SkippedRuns, run.r.LogGone)
	}
	var last int64
	for i, m := range run.logged.msgs {
		want := fmt.Sprintf(`{"type":"user","i":%d,`, i)
		if i < 2000 && !bytes.HasPrefix(m.Raw, []byte(want)) {
			t.Fatalf("line %d is %.40q", i, m.Raw)
		}
		// Each line has the time of the read that brought it, in order.
		if m.Time < before || m.Time > after || m.Time < last {
			t.Fatalf("line %d at %d, after %d, within [%d, %d]", i, m.Time, last, before, after)
		}
		last = m.Time
	}
}

// A logging process that takes nothing: past MaxPending and StallLimit the
// input is passed through regardless, the skipped lines are counted, and
// logging resumes when the logging process does.
func TestRelaySkipsWhenTheLoggerIsStuck(t *testing.T) {
	input := relayInput(3000)
	run := runRelay(t, input, &passer{MaxPending: 64 << 10, StallLimit: 20 * time.Millisecond}, true, false)
	if !bytes.Equal(run.out, input) {
		t.Fatalf("pass-through: %d bytes, want %d", len(run.out), len(input))
	}
	if run.relayErr != nil {
		t.Fatalf("the relay ended with %v", run.relayErr)
	}
	logged, dropped := int64(len(run.logged.msgs)), run.facts.DroppedByInput
	if run.r.SkippedRuns == 0 || dropped == 0 || logged == 0 {
		t.Fatalf("skipped runs %d, logged %d, dropped %d: want some of each", run.r.SkippedRuns, logged, dropped)
	}
	if logged+dropped != 3001 {
		t.Fatalf("logged %d + dropped %d lines, want 3001", logged, dropped)
	}
	// What was logged is the input's lines, whole.
	for _, m := range run.logged.msgs {
		if !bytes.Contains(input, append(m.Raw, '\n')) && !bytes.HasSuffix(input, m.Raw) {
			t.Fatalf("logged a line that is not in the input: %.60q", m.Raw)
		}
	}
}

// A logging process that is gone: the pass-through goes on to the end.
func TestRelayWithoutALogger(t *testing.T) {
	input := relayInput(500)
	run := runRelay(t, input, &passer{}, false, true)
	if !bytes.Equal(run.out, input) || !run.r.LogGone {
		t.Fatalf("pass-through %d of %d bytes, log gone %v", len(run.out), len(input), run.r.LogGone)
	}
}

// A logging process that says it is starved ('M' on Control) gets
// MaxStarved instead of MaxPending: one that takes nothing until all the
// input has passed through loses none of it, where without the word it
// lost some (TestRelaySkipsWhenTheLoggerIsStuck). Said 'L' before catching
// up, it keeps the room until it has.
func TestRelayHoldsMoreForAStarvedLogger(t *testing.T) {
	for _, said := range []string{"M", "ML"} {
		t.Run(said, func(t *testing.T) {
			input := relayInput(3000)
			ctlR, ctlW := pipe(t)
			if _, err := ctlW.WriteString(said); err != nil {
				t.Fatal(err)
			}
			r := &passer{MaxPending: 64 << 10, MaxStarved: 16 << 20, StallLimit: 20 * time.Millisecond, Control: dupFD(t, ctlR)}
			run := runRelay(t, input, r, true, false)
			if !bytes.Equal(run.out, input) {
				t.Fatalf("pass-through: %d bytes, want %d", len(run.out), len(input))
			}
			if run.r.SkippedRuns != 0 || run.facts.DroppedByInput != 0 || len(run.logged.msgs) != 3001 {
				t.Fatalf("skipped runs %d, dropped %d, logged %d of 3001 lines: want all logged",
					run.r.SkippedRuns, run.facts.DroppedByInput, len(run.logged.msgs))
			}
		})
	}
}
