package cli

import (
	"fmt"
	"strconv"
	"time"

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
	line statusLine
}

// progressDelay is how long an update runs before its progress is drawn,
// by default; CONVLOG_PROGRESS_DELAY (seconds, as git's
// GIT_PROGRESS_DELAY) changes it.
const progressDelay = 500 * time.Millisecond

// followUpdate sets a's Progress to draw on env's stderr when that is a
// terminal, and returns what clears the line once the update is over.
func followUpdate(env *Env, a *archive.Archive) (done func()) {
	p := &updateProgress{line: newStatusLine(env.Stderr, progressDelay)}
	if !p.line.on {
		return func() {}
	}
	if v := env.Getenv("CONVLOG_PROGRESS_DELAY"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err != nil || s < 0 {
			fmt.Fprintf(env.Stderr, "convlog: warning: CONVLOG_PROGRESS_DELAY=%q is not a number of seconds; waiting %v before showing progress\n", v, progressDelay)
		} else {
			p.line.delay = time.Duration(s * float64(time.Second))
		}
	}
	a.Progress = p.report
	return p.line.clear
}

func (p *updateProgress) report(stage archive.Stage, done, total int) {
	if !p.line.due(done == total) {
		return
	}
	switch stage {
	case archive.StageFiles:
		p.line.show(fmt.Sprintf("convlog: reading session files into the archive: %d/%d", done, total))
	case archive.StageIndex:
		p.line.show(fmt.Sprintf("convlog: indexing for search: %d/%d rows (%d%%)", done, total, done*100/max(total, 1)))
	}
}
