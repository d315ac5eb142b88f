package cli

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// ListCmd is `convlog list`: the local sessions, newest first.
type ListCmd struct {
	Dir   string `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder of session files."`
	JSON  bool   `name:"json" help:"Print a JSON array."`
	Limit int    `placeholder:"N" help:"Show only the N newest sessions (0: all)."`
}

// Validate is called by kong, so that a bad --limit is a usage error.
func (c *ListCmd) Validate() error {
	if c.Limit < 0 {
		return errors.New("--limit must be 0 or more")
	}
	return nil
}

// Run implements `convlog list`. A file that cannot be read is listed as
// such and reported on stderr; the rest is listed all the same.
func (c *ListCmd) Run(env *Env) error {
	entries, err := record.ListSessions(env.Ctx, c.Dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", c.Dir, err)
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
	if c.Limit > 0 && len(entries) > c.Limit {
		entries = entries[:c.Limit]
	}

	out := bufio.NewWriter(env.Stdout)
	if c.JSON {
		list := make([]*report.ListEntry, len(entries))
		for i := range entries {
			list[i] = report.ListEntryOf(&entries[i])
		}
		err = report.WriteJSON(out, list)
	} else {
		err = report.NewText(out, useColor(env)).List(entries)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}
