package cli

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/alecthomas/kong"
	"golang.org/x/term"

	"github.com/convlog/convlog/live"
	"github.com/convlog/convlog/stream"
)

// ProgressFlag is tee's --progress: alone (or CONVLOG_PROGRESS=1), a line
// per event with each text cut to one line; --progress=full, the whole
// text.
type ProgressFlag struct {
	Mode live.Mode
}

// Decode reads --progress with or without a value.
func (f *ProgressFlag) Decode(ctx *kong.DecodeContext) error {
	if ctx.Scan.Peek().Type != kong.FlagValueToken {
		f.Mode = live.Short
		return nil
	}
	switch v := ctx.Scan.Pop().Value.(type) {
	case bool:
		f.Mode = live.Off
		if v {
			f.Mode = live.Short
		}
	case string:
		m, err := live.ParseMode(v)
		if err != nil {
			return err
		}
		f.Mode = m
	default:
		return fmt.Errorf("unknown progress %v", v)
	}
	return nil
}

// IsBool lets --progress go without a value.
func (f *ProgressFlag) IsBool() bool { return true }

// defaultWidth is the width of the narration when stderr is not a
// terminal and COLUMNS is not set: a CI log, a file.
const defaultWidth = 120

// narrate starts the narration of the session on stderr that --progress
// asks for, around the processor's sink; nil without --progress.
func (c *TeeCmd) narrate(env *Env, proc *stream.Processor, started time.Time, cwd string) *live.Narrator {
	if c.Progress.Mode == live.Off {
		return nil
	}
	o := live.Options{Mode: c.Progress.Mode, Started: started, Model: c.Model, CWD: cwd,
		GitHub: env.Getenv("GITHUB_ACTIONS") == "true"}
	f, _ := env.Stderr.(*os.File)
	tty := f != nil && term.IsTerminal(int(f.Fd()))
	o.Color = tty && !o.GitHub && env.Getenv("NO_COLOR") == "" && env.Getenv("TERM") != "dumb"
	o.Width = defaultWidth
	if n, err := strconv.Atoi(env.Getenv("COLUMNS")); err == nil && n > 0 {
		o.Width = n
	}
	if tty {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			o.Width = w
		}
	}
	return live.Attach(proc, env.Stderr, o)
}
