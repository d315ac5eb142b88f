package stream

import (
	"bytes"
	"strings"
	"testing"
)

func frameAll(chunks ...string) []string {
	var f Framer
	var got []string
	for _, c := range chunks {
		f.Feed([]byte(c), func(l []byte) { got = append(got, string(l)) })
	}
	f.Flush(func(l []byte) { got = append(got, string(l)+"<eof>") })
	return got
}

func TestFramer(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"empty", nil, nil},
		{"one line", []string{"a\n"}, []string{"a"}},
		{"no final newline", []string{"a\nb"}, []string{"a", "b<eof>"}},
		{"split line", []string{"ab", "c\nd", "e\n"}, []string{"abc", "de"}},
		{"empty lines", []string{"\n\n"}, []string{"", ""}},
		{"crlf kept", []string{"a\r\n"}, []string{"a\r"}},
		{"nul and binary", []string{"a\x00b\xff\n"}, []string{"a\x00b\xff"}},
		{"byte at a time", strings.Split("x\nyz\n", ""), []string{"x", "yz"}},
		{"newline alone in chunk", []string{"abc", "\n", "d"}, []string{"abc", "d<eof>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := frameAll(c.chunks...)
			if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestFramerGap(t *testing.T) {
	var f Framer
	var got []string
	fn := func(l []byte) { got = append(got, string(l)) }
	f.Feed([]byte("one\npar"), fn)
	f.Gap(false) // the rest of "par…" and the start of the next line are lost
	f.Feed([]byte("tial\ntwo\n"), fn)
	f.Feed([]byte("thr"), fn)
	f.Gap(true) // lost bytes ended at a newline: the next byte starts a line
	f.Feed([]byte("four\n"), fn)
	f.Flush(fn)
	if want := "one|two|four"; strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFramerLongLineDoesNotPin(t *testing.T) {
	var f Framer
	big := bytes.Repeat([]byte("x"), 8<<20)
	n := 0
	f.Feed(big[:4<<20], func([]byte) {})
	f.Feed(append(big[4<<20:], '\n'), func(l []byte) { n = len(l) })
	if n != 8<<20 {
		t.Fatalf("line of %d bytes, want %d", n, 8<<20)
	}
	if cap(f.carry) != 0 {
		t.Fatalf("carry of %d bytes kept after a long line", cap(f.carry))
	}
}

// FuzzFramer: joining the lines with '\n' gives back the input, however it
// is cut into chunks.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("a\nb\n"), uint8(1))
	f.Add([]byte("{\"type\":\"x\"}\r\n\x00\xff"), uint8(3))
	f.Add([]byte(""), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, cut uint8) {
		var fr Framer
		var out []byte
		emit := func(l []byte) { out = append(append(out, l...), '\n') }
		step := int(cut)%7 + 1
		for i := 0; i < len(in); i += step {
			fr.Feed(in[i:min(i+step, len(in))], emit)
		}
		trailing := false
		fr.Flush(func(l []byte) { out = append(out, l...); trailing = true })
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %q, want %q", out, in)
		}
		if trailing == (len(in) == 0 || in[len(in)-1] == '\n') {
			t.Fatalf("trailing line reported %v for %q", trailing, in)
		}
	})
}
