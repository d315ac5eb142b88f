package cli

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/convlog/convlog/report"
)

// StatsCmd is `convlog stats`: the seed's analytics over every local
// session (or the synced database with --url) as one report.
type StatsCmd struct {
	Since string `placeholder:"DATE" help:"Only sessions that started on or after DATE: YYYY-MM-DD (UTC), an RFC 3339 time, or an age such as 7d, 2w or 12h."`
	Until string `placeholder:"DATE" help:"Only sessions that started on or before DATE (YYYY-MM-DD includes that whole day)."`
	JSON  bool   `name:"json" help:"Print the figures as one JSON object."`

	AcrossFlags `embed:""`

	since, until int64 // Unix ms; 0 for no limit
}

// Validate is called by kong, so that a bad date is a usage error.
func (c *StatsCmd) Validate() error {
	now := time.Now()
	var err error
	if c.since, err = parseBound(c.Since, now, false); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if c.until, err = parseBound(c.Until, now, true); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	return nil
}

var ageBound = regexp.MustCompile(`^(\d+)([smhdw])$`)

// parseBound reads a --since or --until value as Unix ms (0 for none). A
// date is midnight UTC, or with end set the end of that day; an age counts
// back from now.
func parseBound(s string, now time.Time, end bool) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.Add(24 * time.Hour)
		}
		return t.UnixMilli(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		ms := t.UnixMilli()
		if end {
			ms++ // on or before the instant
		}
		return ms, nil
	}
	if m := ageBound.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil {
			unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
			return now.Add(-time.Duration(n) * unit).UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("%q is not a date: write YYYY-MM-DD, an RFC 3339 time (2025-12-22T10:30:00Z), or an age such as 7d", s)
}

// Run implements `convlog stats`.
func (c *StatsCmd) Run(env *Env) error {
	db, err := c.openFor(env, true)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := db.ctx(env.Ctx)
	defer cancel()
	st, err := report.CollectStats(ctx, db.querier(), report.StatsRange{Since: c.since, Until: c.until})
	if err != nil {
		return db.wrap(err)
	}
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	if c.JSON {
		err = report.WriteJSON(out, st)
	} else {
		err = st.WriteText(out, useColor(env))
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}
