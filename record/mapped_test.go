package record

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func mapText(t *testing.T, text string) (*mapped, *os.File) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.jsonl")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := mapFile(f, int64(len(text)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.close)
	return m, f
}

// TestMappedLines: every line once, in order, without its newline; a last
// line without one if it is whole JSON; a cut one is an error; progress
// adds up to the file; a limit stops at the last line it holds whole.
func TestMappedLines(t *testing.T) {
	long := `{"a":"` + strings.Repeat("x", 3<<20) + `"}`
	text := `{"n":1}` + "\n\n" + long + "\n" + `{"n":2}`
	m, _ := mapText(t, text)
	var got []string
	var told int64
	err := m.lines(t.Context(), len(m.data), func(l []byte) bool { got = append(got, string(l)); return true }, func(n int64) { told += n })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`{"n":1}`, "", long, `{"n":2}`}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines: %.80q", got)
	}
	if told != int64(len(text)) {
		t.Errorf("progress told %d bytes of %d", told, len(text))
	}

	got = nil
	if err := m.lines(t.Context(), 20, func(l []byte) bool { got = append(got, string(l)); return true }, nil); err != nil || len(got) != 2 {
		t.Errorf("limited to 20 bytes: %q, %v", got, err)
	}

	cut, _ := mapText(t, `{"n":1}`+"\n"+`{"n":`)
	if err := cut.lines(t.Context(), len(cut.data), func([]byte) bool { return true }, nil); !errors.Is(err, errCutLine) {
		t.Errorf("a cut last line: %v", err)
	}
}

// TestMappedFileShrinks: a file truncated while it is mapped makes reading
// past its new end an error, not a crash.
func TestMappedFileShrinks(t *testing.T) {
	line := `{"a":"` + strings.Repeat("y", 100) + `"}` + "\n"
	m, f := mapText(t, strings.Repeat(line, 1<<16))
	n := 0
	err := m.lines(t.Context(), len(m.data), func(l []byte) bool {
		if n++; n == 10 {
			if err := f.Truncate(0); err != nil {
				t.Fatal(err)
			}
		}
		return true
	}, nil)
	if !errors.Is(err, errShrunk) {
		t.Errorf("after %d lines: %v, want %v", n, err, errShrunk)
	}
}

// Windows PowerShell 5 writes a command's output to a file in UTF-16 with a
// byte order mark: it is read as the UTF-8 it stands for.
func TestMapUTF16(t *testing.T) {
	const text = "{\"a\":\"é 端口 🦀\"}\r\n{\"b\":1}\r\n"
	units := utf16.Encode([]rune(text))
	for _, c := range []struct {
		name  string
		order binary.AppendByteOrder
		bom   []byte
	}{{"little-endian", binary.LittleEndian, []byte{0xff, 0xfe}}, {"big-endian", binary.BigEndian, []byte{0xfe, 0xff}}} {
		b := slices.Clone(c.bom)
		for _, u := range units {
			b = c.order.AppendUint16(b, u)
		}
		m, _ := mapText(t, string(b))
		if string(m.data) != text {
			t.Errorf("%s: %q", c.name, m.data)
		}
		m.close()
	}
	// A lone surrogate, and a last byte without its pair: U+FFFD each.
	m, _ := mapText(t, "\xff\xfe{\x00\x00\xd8}\x00\x0a")
	if want := "{\uFFFD}\uFFFD"; string(m.data) != want {
		t.Errorf("broken: %q, want %q", m.data, want)
	}
	m.close()
	// Text without a mark is UTF-8, read as it is.
	m, _ = mapText(t, "\xfe{}\n")
	if string(m.data) != "\xfe{}\n" || !m.unmap {
		t.Errorf("UTF-8: %q, mapped %v", m.data, m.unmap)
	}
	m.close()
}
