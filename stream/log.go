package stream

import "time"

// Logger is the consuming end of a Copier: it frames the chunks into lines,
// runs them through a Processor and commits in groups. A commit waits up to
// Linger for more lines, so that a chatty stream (a line a millisecond) is
// written a few dozen lines at a time rather than page by page for every
// line; a burst is committed in batches capped by rows, bytes and age. What
// is logged is never more than MaxDelay behind what was read.
type Logger struct {
	Proc   *Processor
	Commit func(*Facts)

	MaxRows  int
	MaxBytes int
	MaxDelay time.Duration
	Linger   time.Duration

	// Abort, when closed, makes Run commit what it has and return without
	// waiting for the rest of the input.
	Abort <-chan struct{}

	framer  Framer
	curTime int64
}

// Run consumes chunks until the channel is closed or Abort fires, and always
// ends with a commit.
func (l *Logger) Run(chunks <-chan *Chunk) {
	if l.MaxRows <= 0 {
		l.MaxRows = 2000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 16 << 20
	}
	if l.MaxDelay <= 0 {
		l.MaxDelay = 100 * time.Millisecond
	}
	if l.Linger <= 0 {
		l.Linger = 25 * time.Millisecond
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		rows, size int
		since      time.Time
	)
	line := func(b []byte) {
		if rows == 0 {
			since = time.Now()
		}
		rows++
		size += len(b)
		l.Proc.Line(b, l.curTime)
	}
	commit := func() {
		l.Commit(l.Proc.Totals())
		rows, size = 0, 0
	}
	defer commit()
	for {
		var (
			ch *Chunk
			ok bool
		)
		select {
		case <-l.Abort:
			return
		default:
		}
		if rows > 0 {
			wait := l.Linger - time.Since(since)
			if wait <= 0 {
				commit()
				continue
			}
			timer.Reset(wait)
			select {
			case ch, ok = <-chunks:
				timer.Stop()
			case <-timer.C:
				// Quiet for a while: make the lines durable.
				commit()
				continue
			case <-l.Abort:
				timer.Stop()
				return
			}
		} else {
			select {
			case ch, ok = <-chunks:
			case <-l.Abort:
				return
			}
		}
		if !ok {
			l.framer.Flush(line)
			return
		}
		l.curTime = ch.Time
		if ch.Gap {
			l.Proc.Skip(ch.DroppedLines())
			l.framer.Gap(ch.GapEndedAtEOL)
		}
		l.framer.Feed(ch.Data, line)
		ch.Release()
		if rows >= l.MaxRows || size >= l.MaxBytes || (rows > 0 && time.Since(since) >= l.MaxDelay) {
			commit()
		}
	}
}
