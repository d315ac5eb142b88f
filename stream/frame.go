// Package stream is the reading side of convlog: the pass-through copier, line
// framing, parsing of the coding agents' JSON streams (Claude Code's
// stream-json and transcripts, Gemini CLI, Codex, Cursor, opencode), and the
// pairing of each tool call with its result.
package stream

import "bytes"

// Framer splits a byte stream into lines of any length. Lines that lie whole
// inside one fed slice are handed on without copying; only a line that spans
// slices is assembled in a carry buffer.
type Framer struct {
	carry []byte
	// skip drops bytes up to the next newline: they belong to a line whose
	// start was lost (see Gap).
	skip bool
}

// Feed calls fn for each line completed by p, without its '\n'. The slice
// passed to fn is valid only during the call.
func (f *Framer) Feed(p []byte, fn func(line []byte)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !f.skip {
				f.carry = append(f.carry, p...)
			}
			return
		}
		switch {
		case f.skip:
			f.skip = false
		case len(f.carry) > 0:
			line := append(f.carry, p[:i]...)
			if cap(line) > hugeLine {
				// Not kept for the next line anyway; dropped before fn,
				// so that fn can let go of a huge line while it works.
				f.carry = nil
			} else {
				f.carry = line
			}
			fn(line)
			f.reset()
		default:
			fn(p[:i])
		}
		p = p[i+1:]
	}
}

// Flush calls fn with a last line that had no '\n', if there is one.
func (f *Framer) Flush(fn func(line []byte)) {
	if len(f.carry) > 0 && !f.skip {
		fn(f.carry)
	}
	f.reset()
	f.skip = false
}

// Gap tells the framer that bytes were lost before the next Feed. The partial
// line held so far is discarded and, unless the lost bytes ended with a
// newline, so is everything up to the next newline.
func (f *Framer) Gap(endedWithNewline bool) {
	f.reset()
	f.skip = !endedWithNewline
}

// Skipping reports whether the framer drops bytes up to the next newline:
// the line under way was lost in a gap.
func (f *Framer) Skipping() bool { return f.skip }

// Pending reports how many bytes of an unfinished line are held.
func (f *Framer) Pending() int { return len(f.carry) }

func (f *Framer) reset() {
	// A huge carry (a multi-MB line) is not kept around for the small lines
	// that follow it.
	if cap(f.carry) > hugeLine {
		f.carry = nil
		return
	}
	f.carry = f.carry[:0]
}
