package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// QueryCmd is `convlog query`: one session read back, as the seed's
// query-session script printed it.
type QueryCmd struct {
	Session  sessionRef `arg:"" help:"The session: ${ref_help}."`
	Dir      string     `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder of session files."`
	Archive  string     `env:"CONVLOG_ARCHIVE" placeholder:"FILE" help:"The archive, which keeps the sessions whose files were pruned (default: convlog.db in the parent folder of --dir)."`
	JSON     bool       `name:"json" xor:"format" help:"Print one JSON document (with messages and tool_calls arrays when asked for)."`
	Markdown bool       `name:"markdown" xor:"format" help:"Print a GitHub-flavoured Markdown summary, for $GITHUB_STEP_SUMMARY."`
	Messages bool       `help:"Include every message."`
	Tools    bool       `help:"Include every tool call."`
	Around   *int64     `placeholder:"SEQUENCE" help:"Show the messages around this one (a hit of convlog search: its #SEQUENCE), and its text whole."`
}

// Run implements `convlog query`.
func (c *QueryCmd) Run(env *Env) error {
	ctx := env.Ctx
	found, err := findSessions(ctx, c.Dir, c.Archive, string(c.Session), env.Stderr)
	if err != nil {
		return err
	}
	e := found[0]
	if len(found) > 1 {
		noteAgentSessions(env.Stderr, found)
	}
	r, err := record.OpenReader(ctx, e.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	var s *record.Session
	if e.Pruned {
		fmt.Fprintf(env.Stderr, "convlog: session %s was pruned; shown from the archive %s\n", e.ID, e.Path)
		s, err = r.SessionByID(ctx, e.ID)
	} else {
		s, err = r.Session(ctx)
	}
	if err != nil {
		return err
	}
	if err := describe(ctx, r, c.Dir, s); err != nil {
		return err
	}

	if c.Around != nil {
		if c.Markdown {
			return &exitError{Code: 2, Err: errors.New("--around shows messages; it does not go with --markdown")}
		}
		c.Messages = true
	}
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	if c.Markdown {
		err = writeMarkdown(ctx, r, s, out) // summary.go
	} else if c.JSON {
		err = c.writeJSON(env, r, s, out)
	} else {
		err = c.writeText(env, r, s, out)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}

func (c *QueryCmd) writeJSON(env *Env, r *record.Reader, s *record.Session, out *bufio.Writer) error {
	ctx := env.Ctx
	doc := report.NewDoc(out)
	if err := doc.Member("session", report.SessionOf(s)); err != nil {
		return err
	}
	if c.Messages {
		doc.Begin("messages")
		err := r.Messages(ctx, s.ID, func(m *record.Message) error {
			if !c.near(m.Sequence) {
				return nil
			}
			return doc.Item(report.MessageOf(m))
		})
		if err != nil {
			return err
		}
		doc.End()
	}
	if c.Tools {
		doc.Begin("tool_calls")
		err := r.ToolCalls(ctx, s.ID, func(t *record.ToolCall) error {
			if !c.nearCall(t) {
				return nil
			}
			return doc.Item(report.ToolCallOf(t))
		})
		if err != nil {
			return err
		}
		doc.End()
	}
	return doc.Close()
}

func (c *QueryCmd) writeText(env *Env, r *record.Reader, s *record.Session, out *bufio.Writer) error {
	ctx := env.Ctx
	t := report.NewText(out, useColor(env))
	if err := t.Summary(s); err != nil {
		return err
	}
	var target *record.Message
	if c.Messages {
		title := "Messages"
		if c.Around != nil {
			title = fmt.Sprintf("Messages %d to %d", max(0, *c.Around-aroundSpan), *c.Around+aroundSpan)
		}
		t.Section(title)
		n := 0
		err := r.Messages(ctx, s.ID, func(m *record.Message) error {
			if !c.near(m.Sequence) {
				return nil
			}
			if c.Around != nil && m.Sequence == *c.Around {
				target = m
			}
			n++
			return t.Message(m)
		})
		if err != nil {
			return err
		}
		if n == 0 {
			t.None()
		}
	}
	if c.Around != nil {
		if err := writeWhole(ctx, r, s.ID, t, out, *c.Around, target); err != nil {
			return err
		}
	}
	if c.Tools {
		t.Section("Tool Calls")
		n := 0
		err := r.ToolCalls(ctx, s.ID, func(tc *record.ToolCall) error {
			if !c.nearCall(tc) {
				return nil
			}
			n++
			return t.ToolCall(tc)
		})
		if err != nil {
			return err
		}
		if n == 0 {
			t.None()
		}
	}
	return t.Err()
}

// useColor says whether plain output may be coloured: only on a terminal,
// and not when NO_COLOR is set (https://no-color.org) or TERM is dumb.
func useColor(env *Env) bool {
	if env.Getenv("NO_COLOR") != "" || env.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := env.Stdout.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// noteAgentSessions says, when an agent session id names several sessions,
// which one is shown: the newest.
func noteAgentSessions(w io.Writer, found []*record.Entry) {
	others := make([]string, len(found)-1)
	for i, e := range found[1:] {
		others[i] = e.ID
	}
	fmt.Fprintf(w, "convlog: agent session %s was logged as %d sessions; showing the newest, %s (the others: %s)\n",
		found[0].AgentID(), len(found), found[0].ID, strings.Join(others, ", "))
}
