package record

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/convlog/convlog/stream"
)

// mapped is a file read through a memory map (or, where the file cannot be
// mapped, read whole into memory).
type mapped struct {
	data   []byte
	unmap  bool
	closed bool
}

// mapFile maps the first size bytes of f for reading.
func mapFile(f *os.File, size int64) (*mapped, error) {
	if size <= 0 {
		return &mapped{}, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("is too large to import (%d bytes)", size)
	}
	m := &mapped{unmap: true}
	var err error
	if m.data, err = mmapFile(f, int(size)); err != nil {
		// A file system that cannot map files: read it instead.
		m.data, m.unmap = make([]byte, size), false
		n, rerr := f.ReadAt(m.data, 0)
		if rerr != nil && n < len(m.data) {
			return nil, rerr
		}
		m.data = m.data[:n]
	}
	if text, ok := fromUTF16(m.data); ok {
		m.close()
		m = &mapped{data: text}
	}
	// A JSON document, not JSONL: Gemini CLI's saved chat, the array of
	// messages that `claude -p --output-format json --verbose` prints, or
	// an indented object (`gemini -p --output-format json`). Read as its
	// lines.
	if lines, ok := stream.DocumentLines(m.data); ok {
		m.close()
		return &mapped{data: lines}, nil
	}
	if m.unmap {
		adviseSequential(m.data)
	}
	return m, nil
}

// fromUTF16 is data in UTF-8 if it is UTF-16 text with a byte order mark,
// as Windows PowerShell 5 writes a command's output with > or Out-File:
// its lines are the agent's JSON lines all the same, and read as they are
// no line of it is JSON. (Such files are rare, so they are decoded into
// memory whole.) A character that is not whole becomes U+FFFD.
func fromUTF16(data []byte) ([]byte, bool) {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		order = binary.LittleEndian
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		order = binary.BigEndian
	default:
		return nil, false
	}
	data = data[2:]
	out := make([]byte, 0, len(data)/2+len(data)/8)
	for len(data) >= 2 {
		r := rune(order.Uint16(data))
		data = data[2:]
		if utf16.IsSurrogate(r) {
			r2 := utf8.RuneError
			if len(data) >= 2 {
				r2 = rune(order.Uint16(data))
			}
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				r = d
				data = data[2:]
			} else {
				r = utf8.RuneError
			}
		}
		out = utf8.AppendRune(out, r)
	}
	if len(data) > 0 {
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	return out, true
}

func (m *mapped) close() {
	if m.unmap && !m.closed {
		munmap(m.data)
	}
	m.closed = true
}

// release tells the kernel that the bytes from..to (passed already) are not
// needed any more: the pages of a mapped file count as the process's
// memory while they stay mapped, 20-30 MB more at the peak of an import.
func (m *mapped) release(from, to int) {
	const page = 4096
	from = from &^ (page - 1)
	to = to &^ (page - 1)
	if m.unmap && to > from {
		adviseDontNeed(m.data[from:to])
	}
}

// errCutLine is a file whose last line, without a newline, is not whole.
var errCutLine = errors.New("ends in the middle of a line")

// errShrunk is a mapped file that lost bytes while it was read.
var errShrunk = errors.New("became shorter while it was read (was it replaced or truncated?); import it again")

// lines calls fn with each line of the first limit bytes, without its
// '\n', until fn returns false; each line lies in the mapping and is valid
// only during the call. A last line without a newline is passed if it is a
// whole JSON value, else the result is errCutLine. progress, if set, is
// told of the bytes passed every megabyte or so.
//
// A file that becomes shorter while it is mapped makes reading past its
// end fault; that comes back as errShrunk instead of stopping the program.
func (m *mapped) lines(ctx context.Context, limit int, fn func([]byte) bool, progress func(int64)) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if re, ok := r.(runtime.Error); ok && isFault(re) {
				err = errShrunk
				return
			}
			panic(r)
		}
	}()
	rest := m.data[:min(limit, len(m.data))]
	whole := limit >= len(m.data)
	told := 0
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if !whole {
				break // the limit cut it
			}
			var d stream.Detector
			d.Line(rest)
			if d.Objects == 0 {
				return errCutLine
			}
			fn(rest)
			break
		}
		if !fn(rest[:i]) {
			return nil
		}
		rest = rest[i+1:]
		if done := len(m.data) - len(rest); done-told >= 1<<20 {
			if progress != nil {
				progress(int64(done - told))
			}
			m.release(told, done)
			told = done
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if progress != nil && whole {
		progress(int64(len(m.data) - told))
	}
	return ctx.Err()
}

// isFault says whether a runtime error is a memory fault (SetPanicOnFault).
func isFault(err runtime.Error) bool {
	_, ok := err.(interface{ Addr() uintptr })
	return ok
}
