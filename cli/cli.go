// Package cli is convlog's commands, one file each, and the command line
// that parses them and maps their errors to exit statuses.
package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/convlog/convlog/record"
)

// CLI is the command line; each command lives in a file of its own.
type CLI struct {
	Tee    TeeCmd    `cmd:"" help:"Pass stdin to stdout unchanged and log it as a session."`
	Query  QueryCmd  `cmd:"" help:"Show one session: its summary, and with flags its messages and tool calls."`
	List   ListCmd   `cmd:"" help:"List the local sessions, newest first."`
	Import ImportCmd `cmd:"" help:"Import saved agent streams, Claude Code transcripts, Codex session files and Gemini CLI chats as sessions."`
	Sync   SyncCmd   `cmd:"" help:"Push sessions to the libSQL database named by TURSO_DATABASE_URL (Turso Cloud, any libSQL server, or a file)."`
	SQL    SQLCmd    `cmd:"" name:"sql" help:"Run a read-only SQL query over all local sessions (or the synced database with --url)."`
	Stats  StatsCmd  `cmd:"" help:"The analytics of all local sessions: per day, results, models, tools, slowest sessions, cost and tokens."`
	Prune  PruneCmd  `cmd:"" help:"Remove local session files older than an age; their sessions stay in the archive."`
	Search SearchCmd `cmd:"" help:"Find sessions by what was said or done in them: full-text search over every session."`
	HTML   HTMLCmd   `cmd:"" name:"html" help:"Write sessions as self-contained web pages (timeline of tool calls, conversation) to open offline."`
	Serve  ServeCmd  `cmd:"" help:"A read-only local web app over the sessions: the list, each session's page (live while it runs), the statistics."`
	Help   HelpCmd   `cmd:"" help:"Show the help of convlog, or of one of its commands."`

	Version kong.VersionFlag `help:"Print the version and exit."`
}

// Env is what commands get from the process, so that they can be run in tests
// without one.
type Env struct {
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string

	// Exe is this binary, for `convlog tee` to start its pass-through
	// process (package relay). Without it, as in tests that run commands
	// in-process, tee passes the input through itself to the end.
	Exe string

	// Schema is schema.sql, which the root package embeds.
	Schema *record.Schema
}

// MustSchema is schema.sql for Env.Schema, learnt when a command first
// needs its tables (record.NewSchema); it is part of the binary, a bad one
// panics then, and the tests catch it.
func MustSchema(sql string) *record.Schema {
	return record.NewSchema(sql)
}

// exitError carries an exit status other than 1; Err, if set, is printed.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// version is set by the build when it knows better than the build info
// (the GitHub Action labels its build with the ref it was asked for).
var version = ""

// Version is what --version prints: the module version and the commit
// that go build recorded (a build from a checkout is "(devel)" with its
// commit; `go install …@v1.2.3` is v1.2.3).
func Version() string {
	v, rev, modified, at := version, "", false, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				at = s.Value
			}
		}
	}
	if v == "" {
		v = "(unknown version)"
	}
	out := "convlog " + v
	if rev != "" {
		out += " commit " + rev[:min(len(rev), 12)]
		if modified {
			out += " with local changes"
		}
		if at != "" {
			out += " of " + at
		}
	}
	return out + ", " + runtime.Version()
}

// HelpCmd is `convlog help [command]`, for those who type it rather than
// --help.
type HelpCmd struct {
	Command []string `arg:"" optional:"" sep:"none" help:"The command to show the help of."`
}

// Run parses the command again with --help, which prints its help and
// exits 0 (or says what is unknown, with exit 2).
func (h *HelpCmd) Run(kctx *kong.Context) error {
	_, err := kctx.Kong.Parse(append(append([]string(nil), h.Command...), "--help"))
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	return nil
}

// grammar is what kong parses args with: the whole CLI, or, when args
// begin with the name of a command other than help, a struct of that
// command and the global flags alone. Kong reads the tags of every command
// and flag it is given: 3.3 ms of each command's start for the whole CLI (a
// search of 1 GB of sessions takes 45 ms in all), 0.5-0.6 ms for search's
// or tee's alone (go test -bench of kong.New). Its parse, its help and its
// errors are the same either way; help, and an unknown command, need every
// command.
func grammar(args []string) any {
	t := reflect.TypeFor[CLI]()
	var fields []reflect.StructField
	picked := false
	for i := range t.NumField() {
		f := t.Field(i)
		if _, isCmd := f.Tag.Lookup("cmd"); !isCmd {
			fields = append(fields, f)
			continue
		}
		name := cmp.Or(f.Tag.Get("name"), strings.ToLower(f.Name))
		if len(args) > 0 && args[0] == name && name != "help" {
			fields = append(fields, f)
			picked = true
		}
	}
	if !picked {
		return new(CLI)
	}
	return reflect.New(reflect.StructOf(fields)).Interface()
}

// kongExit is how kong's own exits (after --help, --version) reach Run.
type kongExit int

// Run runs the command line args and returns the exit status: 0, 1 for a
// failure, 2 for a usage error, or what a command chose (128 + a signal).
// Errors are printed once, here, as `convlog: …`.
func Run(args []string, env *Env) (code int) {
	parser, err := kong.New(grammar(args),
		kong.Name("convlog"),
		kong.Description("Keep a complete, queryable record of every AI coding agent session."),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Exit(func(c int) { panic(kongExit(c)) }),
		kong.UsageOnError(),
		kong.Vars{"version": Version(), "ref_help": refHelp},
		kong.Bind(env),
	)
	if err != nil {
		fmt.Fprintf(env.Stderr, "convlog: %v\n", err)
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			code = int(c)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "convlog: %v\n", err)
		var perr *kong.ParseError
		if errors.As(err, &perr) && perr.Context != nil {
			perr.Context.Stdout = env.Stderr
			perr.Context.PrintUsage(true)
			if sel := perr.Context.Selected(); sel != nil && sel.Name == "tee" {
				PassOnAfterUsageError(env)
			}
		}
		return 2
	}
	err = kctx.Run(env)
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.Err != nil {
			fmt.Fprintf(env.Stderr, "convlog: %v\n", ee.Err)
		}
		return ee.Code
	default:
		fmt.Fprintf(env.Stderr, "convlog: %v\n", err)
		return 1
	}
}
