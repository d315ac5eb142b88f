package cli

import (
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// statusLine is one line of progress on a terminal (import's bar, an
// archive update's count), redrawn in place at most ten times a second,
// not before delay has passed since it was made, and cleared before
// anything else is written there. Anywhere but on a terminal it draws
// nothing.
type statusLine struct {
	w        io.Writer
	on       bool
	start    time.Time
	delay    time.Duration
	lastDraw time.Time
	width    int // of the line drawn last, to clear
}

func newStatusLine(w io.Writer, delay time.Duration) statusLine {
	f, ok := w.(*os.File)
	return statusLine{w: w, on: ok && term.IsTerminal(int(f.Fd())), start: time.Now(), delay: delay}
}

// due says whether a line may be drawn now; final (the last state of what
// it follows) need not wait for the tenth of a second since the last.
func (s *statusLine) due(final bool) bool {
	now := time.Now()
	if !s.on || now.Sub(s.start) < s.delay || (!final && now.Sub(s.lastDraw) < 100*time.Millisecond) {
		return false
	}
	s.lastDraw = now
	return true
}

// show draws line over the one before.
func (s *statusLine) show(line string) {
	io.WriteString(s.w, "\r"+line+strings.Repeat(" ", max(s.width-len(line), 0)))
	s.width = len(line)
}

// clear removes the line drawn, if any.
func (s *statusLine) clear() {
	if s.width > 0 {
		io.WriteString(s.w, "\r"+strings.Repeat(" ", s.width)+"\r")
		s.width = 0
	}
}
