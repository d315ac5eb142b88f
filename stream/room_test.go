package stream

import (
	"fmt"
	"strings"
	"testing"
)

// roomySink is a recorder whose storage has room for a given number of
// bytes of lines, used up as batches are committed.
type roomySink struct {
	recorder
	room    int64
	pending int64
}

func (s *roomySink) Room() int64 { return s.room }

func (s *roomySink) Message(m *Message) {
	s.recorder.Message(m)
	s.pending += int64(len(m.Raw))
}

// A sink running out of room gets batches of at most a quarter of what it
// has left, so that the batch that finally does not fit is a small one;
// one with room to spare gets batches of MaxBytes.
func TestLoggerBatchesShrinkWithTheRoom(t *testing.T) {
	var in strings.Builder
	for i := range 200 {
		fmt.Fprintf(&in, `{"type":"assistant","seq":%03d,"pad":"%s"}`+"\n", i, strings.Repeat("p", 70))
	}
	for _, room := range []int64{1 << 40, 8000} {
		s := &roomySink{room: room}
		var batches []int64
		l := &Logger{Proc: NewProcessor(s), MaxBytes: 4000, Room: s.Room}
		l.Commit = func(*Facts) {
			batches = append(batches, s.pending)
			s.room -= s.pending
			s.pending = 0
		}
		l.Run(chunked(in.String(), 1<<20)) // one chunk: the batches are the logger's own
		var total int64
		for i, b := range batches {
			total += b
			limit := min(int64(4000), (room-total+b)/4)
			if b > limit && b > int64(in.Len()/200) { // a line is a batch, however big
				t.Fatalf("room %d: batch %d holds %d bytes, over %d", room, i, b, limit)
			}
		}
		if len(s.msgs) != 200 || total != int64(in.Len()-200) {
			t.Fatalf("room %d: %d lines, %d bytes logged", room, len(s.msgs), total)
		}
		t.Logf("room %d: %d batches", room, len(batches))
	}
}

// hidingSink passes everything on, as the sinks between tee's logger and
// its writer do, and has no Room of its own.
type hidingSink struct{ Sink }

// Logger.Room reaches the logger whatever sinks stand between it and the
// storage: with the room asked of them (a wrapper hides it), batches shrink
// as it runs out; without, they would all be MaxBytes.
func TestLoggerRoomThroughWrappers(t *testing.T) {
	var in strings.Builder
	for i := range 200 {
		fmt.Fprintf(&in, `{"type":"assistant","seq":%03d,"pad":"%s"}`+"\n", i, strings.Repeat("p", 70))
	}
	s := &roomySink{room: 8000}
	var batches []int64
	l := &Logger{Proc: NewProcessor(hidingSink{s}), MaxBytes: 4000, Room: s.Room}
	l.Commit = func(*Facts) {
		batches = append(batches, s.pending)
		s.room -= s.pending
		s.pending = 0
	}
	l.Run(chunked(in.String(), 1<<20))
	if len(s.msgs) != 200 {
		t.Fatalf("%d lines logged", len(s.msgs))
	}
	if len(batches) < 2 || batches[0] > 2000 {
		t.Fatalf("batches %v: the first over a quarter of the 8000 bytes of room", batches)
	}
}
