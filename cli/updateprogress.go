package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/convlog/convlog/archive"
)

// updateProgress tells, on a terminal, how a long archive update is
// getting on. The first `convlog search` or `sql` over a folder reads every
// session file and indexes every row: 20 s for 1 GB of sessions on a
// 2-CPU machine, and a command silent for that long looks stuck. Nothing
// is drawn for an update shorter than the delay, nor anywhere but on a
// terminal, and the line is gone when the update is done, before any
// warning or answer.
type updateProgress struct {
	w        io.Writer
	start    time.Time
	delay    time.Duration
	lastDraw time.Time
	width    int // of the line drawn last, to clear
}

// progressDelay is how long an update runs before its progress is drawn,
// by default; CONVLOG_PROGRESS_DELAY (seconds, as git's
// GIT_PROGRESS_DELAY) changes it.
const progressDelay = 500 * time.Millisecond

// followUpdate sets a's Progress to draw on env's stderr when that is a
// terminal, and returns what clears the line once the update is over.
func followUpdate(env *Env, a *archive.Archive) (done func()) {
	f, ok := env.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	p := &updateProgress{w: env.Stderr, start: time.Now(), delay: progressDelay}
	if v := env.Getenv("CONVLOG_PROGRESS_DELAY"); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s < 0 {
			fmt.Fprintf(env.Stderr, "convlog: warning: CONVLOG_PROGRESS_DELAY=%q is not a number of seconds; waiting %v before showing progress\n", v, progressDelay)
		} else {
			p.delay = time.Duration(s * float64(time.Second))
		}
	}
	a.Progress = p.report
	return p.clear
}

func (p *updateProgress) report(stage archive.Stage, done, total int) {
	now := time.Now()
	if now.Sub(p.start) < p.delay || (done < total && now.Sub(p.lastDraw) < 100*time.Millisecond) {
		return
	}
	p.lastDraw = now
	var line string
	switch stage {
	case archive.StageFiles:
		line = fmt.Sprintf("convlog: reading session files into the archive: %d/%d", done, total)
	case archive.StageIndex:
		line = fmt.Sprintf("convlog: indexing for search: %d/%d rows (%d%%)", done, total, done*100/max(total, 1))
	default:
		return
	}
	pad := strings.Repeat(" ", max(p.width-len(line), 0))
	io.WriteString(p.w, "\r"+line+pad)
	p.width = len(line)
}

// clear removes the line drawn, if any.
func (p *updateProgress) clear() {
	if p.width > 0 {
		io.WriteString(p.w, "\r"+strings.Repeat(" ", p.width)+"\r")
		p.width = 0
	}
}
