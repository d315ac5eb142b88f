//go:build unix

package relay

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/convlog/convlog/stream"
)

// handoverRig is a Copier on a Handover over real pipes, with a Logger.
type handoverRig struct {
	t           *testing.T
	inR, inW    *os.File
	out         *bufio.Reader
	outW        *os.File
	h           *Handover
	logged      *recorder
	facts       *stream.Facts
	done        chan error
	relayR      *os.File
	relayW      *os.File
	ctlR, ctlW  *os.File
	relayReader *relayReader
	inFD        int
}

func newHandoverRig(t *testing.T) *handoverRig {
	g := &handoverRig{t: t, done: make(chan error, 1), logged: &recorder{}}
	g.inR, g.inW = pipe(t)
	outR, outW := pipe(t)
	g.out, g.outW = bufio.NewReader(outR), outW
	g.relayR, g.relayW = pipe(t)
	g.ctlR, g.ctlW = pipe(t)
	// A test that goes wrong fails, rather than waits forever.
	for _, f := range []*os.File{outR, g.relayR, g.ctlR} {
		f.SetReadDeadline(time.Now().Add(20 * time.Second))
	}
	// Blocking, as a process's stdin is: the Copier then waits in read(2),
	// where waitReading can see it.
	g.inFD = int(g.inR.Fd())
	g.h = NewHandover(g.inR, g.outW)
	c := &stream.Copier{In: g.h, Out: g.h, Now: g.h.Now}
	chunks := make(chan *stream.Chunk, 64)
	proc := stream.NewProcessor(g.logged)
	l := &stream.Logger{Proc: proc, Commit: func(*stream.Facts) {}}
	logDone := make(chan struct{})
	go func() { l.Run(chunks); close(logDone) }()
	go func() {
		err := c.Run(chunks)
		<-logDone
		g.facts = proc.Totals()
		g.done <- err
	}()
	return g
}

// send writes a line to stdin and reads it back from stdout.
func (g *handoverRig) send(line string) {
	g.t.Helper()
	io.WriteString(g.inW, line)
	got, err := g.out.ReadString('\n')
	if err != nil || got != line {
		g.t.Fatalf("sent %q, got %q (%v)", line, got, err)
	}
}

// offer makes the relay ready: its hello is sent and read, and the
// Handover takes it at the Copier's next read. The Copier is waiting for
// stdin by then, so the next line sent is still its own.
func (g *handoverRig) offer() {
	g.t.Helper()
	g.waitReading()
	if _, err := writeHello(int(g.relayW.Fd()), helloInfo{}); err != nil {
		g.t.Fatal(err)
	}
	g.relayReader = newRelayReader(g.relayR)
	if err := g.relayReader.readHello(); err != nil {
		g.t.Fatal(err)
	}
	g.h.offerRelay(g.relayReader, g.ctlW, nil)
}

// waitReading waits until a thread of this process is in a read(2) of
// stdin's pipe: the Copier, waiting for the next line.
func (g *handoverRig) waitReading() {
	g.t.Helper()
	want := fmt.Sprintf("%d 0x%x ", unix.SYS_READ, g.inFD)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob("/proc/self/task/*/syscall")
		for _, task := range tasks {
			if b, _ := os.ReadFile(task); strings.HasPrefix(string(b), want) {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	g.t.Fatal("the stream.Copier never waited for stdin")
}

// waitForGo waits for the byte that starts the relay.
func (g *handoverRig) waitForGo() {
	g.t.Helper()
	var b [1]byte
	if n, _ := g.ctlR.Read(b[:]); n != 1 || b[0] != 'G' {
		g.t.Fatalf("the relay was not told to start: %q", b[:n])
	}
}

func (g *handoverRig) times() map[string]int64 {
	m := map[string]int64{}
	for _, msg := range g.logged.msgs {
		m[msg.Type] = msg.Time
	}
	return m
}

// relayTime is a time no clock gives: a line logged with it came through
// the relay.
const relayTime = 7

func TestHandoverMovesThePassThrough(t *testing.T) {
	g := newHandoverRig(t)
	g.send(`{"type":"a"}` + "\n")
	g.offer()
	relayDone := make(chan error, 1)
	go func() {
		g.waitForGo()
		r := &passer{In: int(g.inR.Fd()), Out: int(g.outW.Fd()), Log: dupFD(t, g.relayW), Now: func() int64 { return relayTime },
			Start: int64(len(appendHello(nil, helloInfo{})))}
		g.relayW.Close()
		relayDone <- r.Run()
	}()
	g.send(`{"type":"b"}` + "\n") // the Copier's; it takes the offer at its next read
	g.send(`{"type":"c"}` + "\n")
	g.inW.Close()
	if err := <-relayDone; err != nil {
		t.Fatal(err)
	}
	if err := <-g.done; err != nil {
		t.Fatalf("Copier: %v", err)
	}
	times := g.times()
	if len(g.logged.msgs) != 3 || times["a"] == relayTime || times["b"] == relayTime || times["c"] != relayTime || g.h.Cut.Load() || g.facts.DroppedByInput != 0 {
		t.Fatalf("logged %d lines at %v, cut %v, dropped %d", len(g.logged.msgs), times, g.h.Cut.Load(), g.facts.DroppedByInput)
	}
	g.outW.Close()
	if rest, _ := io.ReadAll(g.out); len(rest) > 0 {
		t.Fatalf("stdout has %q more", rest)
	}
}

// A relay that dies: the Copier reads stdin again. If it died in the
// middle of a line, that line is counted as lost, since the rest of it may
// have been read by the dead relay.
func TestHandoverTakesBack(t *testing.T) {
	for _, c := range []struct {
		name, relayed string
		logged        int
		dropped       int64
	}{
		{"between lines", `{"type":"c"}` + "\n", 4, 0},
		{"inside a line", `{"type":"c"}` + "\n" + `{"type":"cc`, 4, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newHandoverRig(t)
			g.send(`{"type":"a"}` + "\n")
			g.offer()
			g.send(`{"type":"b"}` + "\n") // the Copier's; it takes the offer at its next read
			g.waitForGo()
			// A relay that passes one read on, relays it, and dies.
			frame := appendFrame(nil, kindData, relayTime, []byte(c.relayed))
			io.WriteString(g.outW, c.relayed)
			g.relayW.Write(frame)
			g.relayW.Close()
			if strings.HasSuffix(c.relayed, "\n") {
				g.out.ReadString('\n')
			} else {
				g.out.ReadString('\n')
				g.out.Read(make([]byte, len(`{"type":"cc`)))
			}
			if !strings.HasSuffix(c.relayed, "\n") {
				// The rest of that line, which the dead relay never read.
				g.send(`"}` + "\n")
			}
			g.send(`{"type":"d"}` + "\n")
			g.inW.Close()
			if err := <-g.done; err != nil {
				t.Fatalf("Copier: %v", err)
			}
			times := g.times()
			if !g.h.Cut.Load() || len(g.logged.msgs) != c.logged || g.facts.DroppedByInput != c.dropped || times["c"] != relayTime || times["d"] == relayTime {
				t.Fatalf("cut %v, logged %d at %v, dropped %d", g.h.Cut.Load(), len(g.logged.msgs), times, g.facts.DroppedByInput)
			}
		})
	}
}
