package stream

import "testing"

// Two gaps inside one line (the logger skipped, took a piece of the line,
// and was skipped again before it ended) lose that line once, not twice:
// input lines = lines logged + lines dropped.
func TestLoggerCountsALineCutTwiceOnce(t *testing.T) {
	chunks := make(chan *Chunk, 8)
	for _, c := range []*Chunk{
		{Data: []byte(`{"type":"a"}` + "\n" + `{"type":"b`)},
		// Lost: more of b. Then a piece of b, then more of it and its end.
		{Gap: true, GapNewlines: 0, GapEndedAtEOL: false, Data: []byte(`bbb`)},
		{Gap: true, GapNewlines: 1, GapEndedAtEOL: true, Data: []byte(`{"type":"c"}` + "\n")},
		// Lost: the start of d, which ends here; a whole line, e; and the
		// start of f, whose end is the piece after the gap.
		{Data: []byte(`{"type":"d`)},
		{Gap: true, GapNewlines: 2, GapEndedAtEOL: false, Data: []byte(`f"}` + "\n" + `{"type":"g"}`)},
	} {
		chunks <- c
	}
	close(chunks)
	r := &recorder{}
	p := NewProcessor(r)
	(&Logger{Proc: p, Commit: func(*Facts) {}}).Run(chunks)
	var got []string
	for _, m := range r.msgs {
		got = append(got, m.Type)
	}
	// a, b, c, d, e, f, g: b, d, e and f lost.
	if len(got) != 3 || got[0] != "a" || got[1] != "c" || got[2] != "g" || p.Facts.DroppedByInput != 4 {
		t.Fatalf("logged %v, dropped %d; want [a c g], 4", got, p.Facts.DroppedByInput)
	}
}
