// Package live narrates a session on stderr while it is logged, one
// short line per event, for the people watching a pipeline or a CI job.
package live

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/convlog/convlog/report"
	"github.com/convlog/convlog/stream"
)

// Mode is how much of the assistant's text the narration shows.
type Mode uint8

const (
	Off   Mode = iota
	Short      // each text as one line, cut to the width
	Full       // each text whole, line by line
)

// ParseMode reads a value of --progress or CONVLOG_PROGRESS: "" and the
// words for false are Off; the words for true, and "short", are Short;
// "full" is Full.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "off":
		return Off, nil
	case "1", "true", "yes", "on", "short":
		return Short, nil
	case "full":
		return Full, nil
	}
	return Off, fmt.Errorf("unknown progress %q: use full, or 1 (or no value) for short lines, 0 for none", s)
}

// Options say how the narration looks.
type Options struct {
	Mode Mode
	// Color paints the lines with ANSI escapes (a terminal, without
	// NO_COLOR).
	Color bool
	// GitHub writes GitHub Actions workflow commands: each turn a
	// collapsible group, each failed tool call a warning.
	GitHub bool
	// Width is the columns a line is cut to (20 at least); 0 cuts none.
	Width int
	// Model and CWD stand in for what the stream does not say (the
	// --model flag, the process's folder).
	Model, CWD string
	// Now is the clock, time.Now when nil; Started is the start of the
	// session, Now() at Attach when zero. The duration at the end is
	// their difference; tool calls' durations come from the stream.
	Now     func() time.Time
	Started time.Time
	// Queue is how many lines may wait for stderr before more are
	// dropped (default 1024).
	Queue int
}

// Narrator is a stream.Sink that passes everything on to the sink it
// wraps and tells it on stderr as it goes. It runs on the logger's
// goroutine and never waits for stderr (see writer).
type Narrator struct {
	next  stream.Sink
	proc  *stream.Processor
	facts *stream.Facts
	o     Options
	out   *writer
	json  fastjson.Parser

	started bool // a start line was written
	calls   map[string]*call
	// The message being read: its sequence, depth, API message id, and
	// whether its line carries whole tool calls (a start and its end).
	msgSeq       int64
	msgDepth     int
	msgID        string
	msgCompletes bool
	// A start line held back: the result in the same line may follow.
	held   string
	heldID string
	// Gemini CLI's chunks of text, joined until something else comes.
	delta      strings.Builder
	deltaDepth int
	deltaID    string

	turns, toolCalls, failed int
	inTurn, turnHadResult    bool
	turnID                   string
	groupOpen                bool
}

// minWidth is the narrowest width lines are cut to: narrower, a line
// would be all marks and ellipses.
const minWidth = 20

type call struct {
	name, digest string
	depth        int
}

// Attach makes a Narrator that wraps p's sink, asks p for the assistant's
// text, and writes to w (stderr) from a goroutine of its own, which End
// waits for.
func Attach(p *stream.Processor, w io.Writer, o Options) *Narrator {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Started.IsZero() {
		o.Started = o.Now()
	}
	if o.Queue <= 0 {
		o.Queue = 1024
	}
	if o.Mode == Off {
		o.Mode = Short
	}
	if o.Width > 0 {
		o.Width = max(o.Width, minWidth)
	}
	n := &Narrator{next: p.Sink, proc: p, facts: &p.Facts, o: o, calls: map[string]*call{}}
	n.out = newWriter(w, o.Queue)
	p.Sink = n
	p.Texts = true
	return n
}

func (n *Narrator) Message(m *stream.Message) {
	n.next.Message(m)
	depth := n.depthOf(m.ParentToolUseID, m.Sidechain)
	n.msgSeq, n.msgDepth, n.msgID, n.msgCompletes = m.Seq, depth, m.APIMessageID, completes(m)
	if m.TextDelta && m.Text != nil {
		if n.delta.Len() > 0 && n.deltaDepth != depth || n.held != "" {
			n.flush()
		}
		if n.delta.Len() == 0 {
			n.deltaDepth, n.deltaID = depth, m.APIMessageID
		}
		if n.o.Mode == Full || n.o.Width == 0 || n.delta.Len() <= 8*n.o.Width {
			// Beyond that, clip would cut it anyway.
			n.delta.Write(m.Text)
		}
		return
	}
	n.flush()
	if isStart(m) {
		n.start()
	}
	if len(m.Text) > 0 {
		n.text(depth, m.APIMessageID, string(n.clip(m.Text)))
	}
}

// clip keeps of a text what one line can show of it, with room for the
// whitespace that is collapsed, so that a long text costs no more than a
// short one; a cut text still ends in an ellipsis. Full keeps it whole.
func (n *Narrator) clip(b []byte) []byte {
	limit := 8 * n.o.Width
	if n.o.Mode == Full || limit == 0 || len(b) <= limit {
		return b
	}
	i := limit
	for i > 0 && !utf8.RuneStart(b[i]) {
		i--
	}
	return append(b[:i:i], " …"...)
}

func (n *Narrator) ToolUse(u *stream.ToolUse) {
	n.next.ToolUse(u)
	n.flush()
	depth, id := 0, ""
	switch {
	case u.ParentToolUseID != "":
		depth = n.depthOf(u.ParentToolUseID, -1)
	case u.MessageSeq == n.msgSeq:
		depth = n.msgDepth
	}
	if u.MessageSeq == n.msgSeq {
		id = n.msgID
	}
	// Kept until the result, so no longer than any line could show.
	c := &call{name: head(u.Name, maxLine), digest: head(inputDigest(&n.json, u.Input, n.cwd()), maxLine), depth: depth}
	n.calls[u.ID] = c
	n.toolCalls++
	n.ensureStarted()
	line := n.toolLine(depth, "▸", cyan, c.name, c.digest, "", "")
	n.turn(depth, id, line)
	if n.msgCompletes && u.MessageSeq == n.msgSeq {
		n.held, n.heldID = line, u.ID
		return
	}
	n.emit(line)
}

func (n *Narrator) ToolResult(r *stream.ToolResult) {
	n.next.ToolResult(r)
	if n.held != "" && n.heldID == r.ID {
		// Start and end in one line: the end says it all.
		n.held, n.heldID = "", ""
	} else {
		n.flush()
	}
	c := n.calls[r.ID]
	if c == nil {
		c = &call{name: "?"}
	}
	delete(n.calls, r.ID)
	dur := ""
	if r.DurationMS >= 0 {
		dur = report.Duration(r.DurationMS)
	}
	if c.depth == 0 {
		n.turnHadResult = true
	}
	if !r.IsError {
		n.emit(n.toolLine(c.depth, "✓", green, c.name, c.digest, dur, ""))
		return
	}
	n.failed++
	e := r.ErrorText
	if len(e) == 0 {
		e = r.Output
	}
	line := n.toolLine(c.depth, "✗", red, c.name, c.digest, dur, errorLine(e))
	if n.o.GitHub {
		line = "::warning title=" + escapeProperty(report.OneLine(c.name)+" failed") + "::" + escapeData(strings.TrimLeft(line, " "))
	}
	n.emit(line)
}

// End writes the end of the session (its result, turns, duration, cost,
// tokens, failed calls and session file), then waits for every line to
// be written, or for a second at most when stderr does not keep up.
func (n *Narrator) End(f *stream.Facts, sessionFile string) {
	if n == nil {
		return
	}
	n.flush()
	n.ensureStarted()
	var lines [][]byte
	add := func(s string) { lines = append(lines, []byte(s+"\n")) }
	if n.groupOpen {
		add("::endgroup::")
		n.groupOpen = false
	}
	for _, l := range n.endLines(f, sessionFile) {
		add(l)
	}
	n.out.finish(lines)
}

// depthOf is how far a sub-agent's line is indented: one more than the
// call that started it.
func (n *Narrator) depthOf(parent string, sidechain int) int {
	if parent != "" {
		if c := n.calls[parent]; c != nil {
			return c.depth + 1
		}
		return 1
	}
	if sidechain == 1 {
		return 1
	}
	return 0
}

// completes says whether a line carries whole tool calls, their start and
// their end at once: a Codex item first seen completed, a Cursor call
// first seen completed, every opencode tool event.
func completes(m *stream.Message) bool {
	switch m.Type {
	case "item.completed":
		return true
	case "tool_call":
		return m.Subtype == "completed"
	case "tool_use":
		return m.Subtype == "completed" || m.Subtype == "error"
	}
	return false
}

// isStart says whether a line starts a run of the agent: Claude Code's and
// Cursor's system/init, Gemini CLI's init, Codex's thread.started.
func isStart(m *stream.Message) bool {
	return m.Type == "system" && m.Subtype == "init" || m.Type == "init" || m.Type == "thread.started"
}

func (n *Narrator) cwd() string {
	if n.facts.CWD != "" {
		return n.facts.CWD
	}
	return n.o.CWD
}

// flush writes what was held back: a start line, joined chunks of text.
func (n *Narrator) flush() {
	if n.held != "" {
		n.emit(n.held)
		n.held, n.heldID = "", ""
	}
	if n.delta.Len() > 0 {
		s := string(n.clip([]byte(n.delta.String())))
		n.delta.Reset()
		n.text(n.deltaDepth, n.deltaID, s)
	}
}

func (n *Narrator) ensureStarted() {
	if !n.started {
		n.start()
	}
}

// start writes the start of a run; a turn under way ends with it.
func (n *Narrator) start() {
	n.started = true
	n.inTurn = false
	if n.groupOpen {
		n.emit("::endgroup::")
		n.groupOpen = false
	}
	n.emit(n.startLine())
}

func (n *Narrator) text(depth int, id, s string) {
	lines := n.textLines(depth, s)
	if len(lines) == 0 {
		return
	}
	n.ensureStarted()
	title := ""
	if n.o.GitHub {
		title = "“" + fit(report.OneLine(collapse(s, 80)), 80) + "”"
	}
	n.turn(depth, id, title)
	for _, l := range lines {
		n.emit(l)
	}
}

// turn opens a new turn, and in GitHub Actions a group titled by what
// comes first in it, when a top-level event starts one: the first, one after a
// tool result (the model answers the results), or one of another API
// message (Claude Code's message id).
func (n *Narrator) turn(depth int, id, first string) {
	if depth > 0 {
		return
	}
	if n.inTurn && !n.turnHadResult && (id == "" || n.turnID == "" || id == n.turnID) {
		if n.turnID == "" {
			n.turnID = id
		}
		return
	}
	n.turns++
	n.inTurn, n.turnHadResult, n.turnID = true, false, id
	if n.o.GitHub {
		if n.groupOpen {
			n.emit("::endgroup::")
		}
		n.emit("::group::" + escapeData(fmt.Sprintf("Turn %d: %s", n.turns, strings.TrimSpace(first))))
		n.groupOpen = true
	}
}

func (n *Narrator) emit(line string) {
	n.out.put([]byte(line + "\n"))
}
