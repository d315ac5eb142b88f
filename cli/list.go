package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// ListCmd is `convlog list`: the sessions of the folder, newest first.
type ListCmd struct {
	Dir     string `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder of session files."`
	Archive string `env:"CONVLOG_ARCHIVE" placeholder:"FILE" help:"The archive, which keeps the sessions whose files were pruned (default: convlog.db in the parent folder of --dir)."`
	JSON    bool   `name:"json" help:"Print a JSON array."`
	Wide    bool   `short:"w" help:"Whole ids, times in UTC to the millisecond, and nothing cut short (the default fits 100 columns)."`
	Limit   int    `placeholder:"N" help:"Show only the N newest sessions (0: all)."`
}

// Validate is called by kong, so that a bad --limit is a usage error.
func (c *ListCmd) Validate() error {
	if c.Limit < 0 {
		return errors.New("--limit must be 0 or more")
	}
	return nil
}

// Run implements `convlog list`. A file that cannot be read is listed as
// such and reported on stderr; the rest is listed all the same. Short ids
// are worked out over every session of the folder, --limit or not, so that
// each one printed names its session.
func (c *ListCmd) Run(env *Env) error {
	entries, err := folderSessions(env.Ctx, c.Dir, c.Archive, env.Stderr)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Err != nil {
			fmt.Fprintf(env.Stderr, "convlog: warning: %v\n", e.Err)
		}
	}
	if len(entries) == 0 && !c.JSON {
		fmt.Fprintf(env.Stderr, "convlog: no sessions in %s\n", c.Dir)
		return nil
	}
	linkSessions(entries)
	short := record.ShortIDs(entries)
	if c.Limit > 0 && len(entries) > c.Limit {
		entries, short = entries[:c.Limit], short[:c.Limit]
	}

	out := bufio.NewWriter(env.Stdout)
	if c.JSON {
		list := make([]*report.ListEntry, len(entries))
		for i := range entries {
			list[i] = report.ListEntryOf(&entries[i], short[i])
		}
		err = report.WriteJSON(out, list)
	} else {
		opt := report.ListOptions{Wide: c.Wide, Short: short, Zone: localZone(env)}
		err = report.NewText(out, useColor(env)).List(entries, opt)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}

// localZone is the time zone of the local times shown: TZ's, as Go reads it
// for time.Local, from the command's environment.
func localZone(env *Env) *time.Location {
	tz := strings.TrimPrefix(env.Getenv("TZ"), ":")
	if tz == "" {
		return time.Local
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.Local
}
