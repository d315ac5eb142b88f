package report

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/convlog/convlog/record"
)

// Cut lengths, in characters, of values in plain text output. Longer values
// are clipped with a marker; --json has them whole.
const (
	DigestWidth = 200
	ValueWidth  = 300
)

// Text writes sessions for people. The first write error sticks and is
// returned by every later call.
type Text struct {
	w     io.Writer
	color bool
	err   error
}

// NewText writes to w, with ANSI colour when color is set.
func NewText(w io.Writer, color bool) *Text { return &Text{w: w, color: color} }

const (
	bold   = "1"
	red    = "31"
	green  = "32"
	yellow = "33"
)

func (t *Text) paint(code, s string) string {
	if !t.color || s == "" || code == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (t *Text) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *Text) header(title string) {
	t.printf("%s\n", t.paint(bold, "=== "+title+" ==="))
}

func (t *Text) field(name, value string) {
	t.printf("%s: %s\n", name, value)
}

const (
	unknown        = "(unknown)"
	incompleteEnd  = "(incomplete: still running, or the logger was killed)"
	incompleteText = "(incomplete)"
)

func orUnknown(s *string) string {
	if s == nil {
		return unknown
	}
	return OneLine(*s)
}

func timeOr(ms *int64, or string) string {
	if ms == nil {
		return or
	}
	return ISOTime(*ms)
}

// ResultText is a session's result as the seed prints it, "result
// (success)", or why there is none.
func ResultText(s *record.Session) string {
	switch {
	case s.ResultType != nil && s.ResultSubtype != nil:
		return fmt.Sprintf("%s (%s)", *s.ResultType, *s.ResultSubtype)
	case s.ResultType != nil:
		return *s.ResultType
	case s.Incomplete():
		return "none yet (no result line so far)"
	case s.SourceFormat != nil && *s.SourceFormat == "transcript":
		return "none (transcripts have no result line)"
	default:
		return "none (stream ended without a result)"
	}
}

// Tokens is a session's token counts, or "" when none is known.
func Tokens(s *record.Session) string {
	var parts []string
	for _, c := range []struct {
		n    *int64
		name string
	}{
		{s.InputTokens, "input"}, {s.OutputTokens, "output"},
		{s.CacheCreationInputTokens, "cache creation"}, {s.CacheReadInputTokens, "cache read"},
	} {
		if c.n != nil {
			parts = append(parts, fmt.Sprintf("%d %s", *c.n, c.name))
		}
	}
	return strings.Join(parts, ", ")
}

// Summary writes the seed's "=== Session Summary ===" block, the figures
// the seed's example lacks after its lines, and "=== GitHub Context ==="
// when any of it is known.
func (t *Text) Summary(s *record.Session) error {
	t.header("Session Summary")
	t.field("ID", OneLine(s.ID))
	t.field("Model", orUnknown(s.Model))
	t.field("Mode", orUnknown(s.Mode))
	t.field("Started", timeOr(s.StartedAt, unknown))
	t.field("Ended", timeOr(s.EndedAt, t.paint(yellow, incompleteEnd)))
	switch {
	case s.DurationMS != nil:
		t.field("Duration", Duration(*s.DurationMS))
	case s.Incomplete():
		t.field("Duration", incompleteText)
	default:
		t.field("Duration", unknown)
	}
	result := ResultText(s)
	if s.IsError != nil && *s.IsError {
		result = t.paint(red, result)
	}
	t.field("Result", result)
	t.field("Messages", intOr(s.TotalMessages))
	t.field("Tool Calls", intOr(s.TotalToolCalls))
	t.field("CWD", orUnknown(s.CWD))

	switch {
	case s.TotalCostUSD != nil:
		t.field("Cost", Cost(*s.TotalCostUSD))
	case s.EstimatedCostUSD != nil:
		t.field("Cost", "~"+Cost(*s.EstimatedCostUSD)+" (estimated from its tokens at list prices as of "+PricesAsOf+")")
	}
	if len(s.Linked) > 0 {
		t.field("Same Agent Session", OneLine(strings.Join(s.Linked, ", ")))
	}
	if tok := Tokens(s); tok != "" {
		t.field("Tokens", tok)
	}
	if s.IsError != nil {
		t.field("Is Error", strconv.FormatBool(*s.IsError))
	}
	if s.NumTurns != nil {
		t.field("Turns", strconv.FormatInt(*s.NumTurns, 10))
	}
	if s.PromptLength != nil {
		t.field("Prompt Length", strconv.FormatInt(*s.PromptLength, 10))
	}
	optional := []struct {
		name string
		v    *string
	}{
		{"Agent", s.Agent}, {"Agent Session ID", s.AgentSessionID}, {"Agent Version", s.AgentVersion}, {"Git Branch", s.GitBranch},
	}
	for _, o := range optional {
		if o.v != nil {
			t.field(o.name, OneLine(*o.v))
		}
	}
	if src := sourceText(s); src != "" {
		t.field("Source", src)
	}
	if s.LinesDropped != nil && *s.LinesDropped > 0 {
		t.field("Lines Dropped", t.paint(red, fmt.Sprintf("%d (input lines that could not be logged)", *s.LinesDropped)))
	}
	if s.Redactions != nil && *s.Redactions > 0 {
		t.field("Redactions", fmt.Sprintf("%d (secrets replaced with [REDACTED:<kind>] in the stored copy)", *s.Redactions))
	}

	if s.GitHubRunID != nil || s.GitHubRepository != nil || s.GitHubRef != nil {
		t.printf("\n")
		t.header("GitHub Context")
		t.field("Run ID", orUnknown(s.GitHubRunID))
		t.field("Repository", orUnknown(s.GitHubRepository))
		t.field("Ref", orUnknown(s.GitHubRef))
	}
	return t.err
}

func intOr(n *int64) string {
	if n == nil {
		return unknown
	}
	return strconv.FormatInt(*n, 10)
}

func sourceText(s *record.Session) string {
	if s.Source == nil {
		return ""
	}
	src := *s.Source
	if s.SourceFormat != nil {
		src += " (" + *s.SourceFormat + ")"
	}
	if s.SourcePath != nil {
		src += " from " + *s.SourcePath
	}
	return OneLine(src)
}

// Section starts a section after the summary.
func (t *Text) Section(title string) error {
	t.printf("\n")
	t.header(title)
	return t.err
}

// None says that a section is empty.
func (t *Text) None() error {
	t.printf("(none)\n")
	return t.err
}

// Err is the first write error.
func (t *Text) Err() error { return t.err }

// Kind is a message's type and subtype, "system/init".
func Kind(typ, subtype *string) string {
	k := orUnknown(typ)
	if subtype != nil && *subtype != "" {
		k += "/" + OneLine(*subtype)
	}
	return k
}

// Message writes one message: sequence, time, kind and digest.
func (t *Text) Message(m *record.Message) error {
	// Padded before it is painted: the escapes would count as width.
	kind := fmt.Sprintf("%-22s", Kind(m.Type, m.Subtype))
	if m.Type != nil && *m.Type == "error" {
		kind = t.paint(red, kind)
	}
	t.printf("#%-4d %-24s  %s  %s\n", m.Sequence, timeOr(m.Timestamp, "-"), kind, Clip(MessageDigest(m), DigestWidth))
	return t.err
}

// ToolCall writes one tool call: a line with sequence, name, status,
// duration, time and id, then its input and its output or error.
func (t *Text) ToolCall(c *record.ToolCall) error {
	seq := "?"
	if c.Sequence != nil {
		seq = strconv.FormatInt(*c.Sequence, 10)
	}
	status := orUnknown(c.Status)
	if status == "error" {
		status = t.paint(red, status)
	}
	dur := "-"
	if c.DurationMS != nil {
		dur = Duration(*c.DurationMS)
	}
	t.printf("#%s  %s  %s  %s  %s  %s\n", seq, orUnknown(c.ToolName), status, dur, timeOr(c.Timestamp, "-"), OneLine(c.ID))
	input := unknown
	if c.ToolInput != nil {
		in, _ := validUTF8([]byte(*c.ToolInput))
		input = compactJSON(in)
	}
	t.printf("    input:  %s\n", Clip(OneLine(input), ValueWidth))
	switch {
	case c.Status != nil && *c.Status == "error":
		e := c.Error
		if e == nil {
			e = c.ToolOutput
		}
		t.printf("    error:  %s\n", Clip(orUnknown(e), ValueWidth))
	case c.Status != nil && *c.Status == "pending":
		t.printf("    output: (no result)\n")
	default:
		t.printf("    output: %s\n", Clip(orUnknown(c.ToolOutput), ValueWidth))
	}
	return t.err
}

// FileProblem is why a session file could not be read, without its path.
func FileProblem(err error) string {
	var fe *record.FileError
	if errors.As(err, &fe) {
		return fe.Reason()
	}
	return err.Error()
}

// Duration is a duration as query, list and stats all show it: 850ms,
// 12.3s, 5m42s, 2h05m.
func Duration(ms int64) string {
	f := float64(ms)
	return msText(&f)
}

func intOrDash(n *int64) string {
	if n == nil {
		return "-"
	}
	return strconv.FormatInt(*n, 10)
}
