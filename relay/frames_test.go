package relay

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/convlog/convlog/stream"
)

// recorder is a Sink that keeps copies of the messages it is told of.
type recorder struct {
	msgs []stream.Message
}

func (r *recorder) Message(m *stream.Message) {
	c := *m
	c.Raw = append([]byte(nil), m.Raw...)
	r.msgs = append(r.msgs, c)
}
func (r *recorder) ToolUse(*stream.ToolUse)       {}
func (r *recorder) ToolResult(*stream.ToolResult) {}

// relayed builds a relay stream: hello, then the frames that fn appends.
func relayed(fn func(b []byte) []byte) []byte {
	return fn(appendHello(nil, helloInfo{}))
}

// logRelayed runs a relay stream through a Copier and a Logger, as the
// logging process of tee does.
func logRelayed(t *testing.T, frames []byte) (*recorder, *stream.Facts, error) {
	t.Helper()
	rr := newRelayReader(bytes.NewReader(frames))
	if err := rr.readHello(); err != nil {
		t.Fatalf("hello: %v", err)
	}
	c := &stream.Copier{In: rr, Out: io.Discard, Now: rr.Time, BufSize: 16, Buffers: 4}
	chunks := make(chan *stream.Chunk, 8)
	r := &recorder{}
	proc := stream.NewProcessor(r)
	l := &stream.Logger{Proc: proc, Commit: func(*stream.Facts) {}}
	done := make(chan struct{})
	go func() { l.Run(chunks); close(done) }()
	err := c.Run(chunks)
	<-done
	return r, proc.Totals(), err
}

func TestRelayReaderTimesAndGaps(t *testing.T) {
	frames := relayed(func(b []byte) []byte {
		b = appendFrame(b, kindData, 100, []byte(`{"type":"a"}`+"\n"+`{"type":"b`))
		// The pass-through skipped the rest of b, one whole line, and the
		// start of a line that ends in x.
		b = appendGap(b, 2, false)
		b = appendFrame(b, kindData, 200, []byte(`x"}`+"\n"+`{"type":"y"}`+"\n"))
		b = appendFrame(b, kindData, 300, []byte(`{"type":"z"}`))
		return appendFrame(b, kindEnd, 0, nil)
	})
	r, facts, err := logRelayed(t, frames)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range r.msgs {
		got = append(got, m.Type+"@"+strconv.FormatInt(m.Time, 10))
	}
	if strings.Join(got, " ") != "a@100 y@200 z@300" {
		t.Fatalf("logged %v", got)
	}
	// b, the whole line, and the one ending in x: three lines lost.
	if facts.DroppedByInput != 3 {
		t.Fatalf("dropped %d lines, want 3", facts.DroppedByInput)
	}
}

func TestRelayReaderEnds(t *testing.T) {
	hello := relayed(func(b []byte) []byte { return b })
	data := func(b []byte) []byte { return appendFrame(b, kindData, 1, []byte("abc\n")) }
	cases := []struct {
		name   string
		stream []byte
		hello  error // from Hello
		end    error // from Read at the end
	}{
		{"end frame", relayed(func(b []byte) []byte { return appendFrame(data(b), kindEnd, 0, nil) }), nil, io.EOF},
		{"no end frame", relayed(data), nil, errRelayCut},
		{"cut inside a frame", relayed(data)[:len(hello)+frameHeader+2], nil, errRelayCut},
		{"cut inside a header", relayed(data)[:len(hello)+5], nil, errRelayCut},
		{"unknown kind", relayed(func(b []byte) []byte { return appendFrame(b, 'Q', 0, nil) }), nil, errors.New("unknown")},
		{"gap of the wrong size", relayed(func(b []byte) []byte { return appendFrame(b, kindGap, 0, []byte("x")) }), nil, errors.New("gap frame")},
		{"plain input", []byte(`{"type":"system"}` + "\n" + strings.Repeat("x", 40)), errNotRelay, nil},
		{"empty input", nil, errNotRelay, nil},
		{"another version", appendFrame(nil, kindHello, 0, []byte("convlog relay 9")), errNotRelay, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rr := newRelayReader(bytes.NewReader(c.stream))
			if err := rr.readHello(); err != c.hello {
				t.Fatalf("Hello: %v, want %v", err, c.hello)
			}
			if c.hello != nil {
				if _, err := rr.Read(make([]byte, 8)); err != c.hello {
					t.Fatalf("Read after a failed Hello: %v", err)
				}
				return
			}
			var got []byte
			buf := make([]byte, 2)
			var err error
			for err == nil {
				var n int
				n, err = rr.Read(buf)
				got = append(got, buf[:n]...)
			}
			switch {
			case c.end == io.EOF || c.end == errRelayCut:
				if err != c.end {
					t.Fatalf("ends with %v, want %v", err, c.end)
				}
			case err == io.EOF || err == errRelayCut || !strings.Contains(err.Error(), c.end.Error()):
				t.Fatalf("ends with %v, want an error about %q", err, c.end)
			}
			if len(got) > 0 && string(got) != "abc\n" && string(got) != "ab" {
				t.Fatalf("data %q", got)
			}
		})
	}
}

// FuzzRelayReader: whatever arrives on the relay pipe, the reader neither
// panics nor returns more bytes than came, and always ends with an error.
func FuzzRelayReader(f *testing.F) {
	f.Add(relayed(func(b []byte) []byte {
		b = appendFrame(b, kindData, 5, []byte("a\nb"))
		b = appendGap(b, 3, true)
		return appendFrame(b, kindEnd, 0, nil)
	}))
	f.Add([]byte("plain\n"))
	f.Add(relayed(func(b []byte) []byte { return appendFrame(b, kindData, 1, make([]byte, 40))[:60] }))
	f.Fuzz(func(t *testing.T, frames []byte) {
		rr := newRelayReader(bytes.NewReader(frames))
		total := 0
		buf := make([]byte, 7)
		for range len(frames) + 2 {
			n, err := rr.Read(buf)
			total += n
			rr.TakeGap()
			if err != nil {
				if total > len(frames) {
					t.Fatalf("read %d bytes from %d", total, len(frames))
				}
				return
			}
		}
		t.Fatalf("no end after %d reads of a %d-byte stream", len(frames)+2, len(frames))
	})
}
