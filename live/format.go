package live

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"github.com/convlog/convlog/report"
	"github.com/convlog/convlog/stream"
)

// ANSI colours, used on a terminal only.
const (
	bold  = "1"
	dim   = "2"
	red   = "31"
	green = "32"
	cyan  = "36"
)

func (n *Narrator) paint(code, s string) string {
	if !n.o.Color || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// indent is the room before a sub-agent's line: two spaces a level, but
// never more than a quarter of the width.
func (n *Narrator) indent(depth int) string {
	if w := n.o.Width; w > 0 {
		depth = min(depth, w/8)
	}
	return strings.Repeat("  ", depth)
}

// toolLine is a tool call's line: its mark, name and input digest, then
// its duration and error once it has ended. Within the width, the name
// gets at most a third, the error what the digest leaves, and the digest
// at least half of the rest. Every line starts with a mark, never with
// text of the session's, so that no text can pass for a workflow command
// in GitHub Actions.
func (n *Narrator) toolLine(depth int, mark, color, name, digest, dur, errText string) string {
	ind := n.indent(depth)
	if w := n.o.Width; w > 0 {
		// No more of each than a line can show, before the work on it.
		name, digest, errText = head(name, 4*w), head(digest, 4*w), head(errText, 4*w)
	}
	name, digest, errText = report.OneLine(name), report.OneLine(digest), report.OneLine(errText)
	if w := n.o.Width; w > 0 {
		avail := w - width(ind) - width(mark) - 1
		name = fit(name, max(avail/3, 1))
		avail -= width(name)
		if dur != "" {
			avail -= 2 + width(dur)
		}
		if errText == "" {
			digest = fit(digest, avail-2)
		} else {
			room := max(avail-4-width(errText), (avail-4)/2)
			digest = fit(digest, room)
			used := 0
			if digest != "" {
				used = 2 + width(digest)
			}
			errText = fit(errText, avail-used-2)
		}
	}
	var b strings.Builder
	b.WriteString(ind)
	b.WriteString(n.paint(color, mark))
	b.WriteString(" " + name)
	if digest != "" {
		b.WriteString("  " + digest)
	}
	if dur != "" {
		b.WriteString("  " + n.paint(dim, dur))
	}
	if errText != "" {
		b.WriteString("  " + n.paint(red, errText))
	}
	return b.String()
}

// textLines are the lines of an assistant's text: one, its words on one
// line cut to the width; or with Full every line of it.
func (n *Narrator) textLines(depth int, s string) []string {
	ind := n.indent(depth)
	prefix := ind + n.paint(dim, "│") + " "
	if n.o.Mode != Full {
		limit := -1
		if n.o.Width > 0 {
			limit = 2 * n.o.Width
		}
		one := report.OneLine(collapse(s, limit))
		if one == "" {
			return nil
		}
		if n.o.Width > 0 {
			one = fit(one, n.o.Width-width(ind)-2)
		}
		return []string{prefix + one}
	}
	s = strings.TrimRight(s, " \t\r\n")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = report.OneLine(strings.ReplaceAll(strings.TrimRight(l, "\r"), "\t", "    "))
		out = append(out, strings.TrimRight(prefix+l, " "))
	}
	return out
}

// startLine names the agent, the model, the folder and the agent's own
// session id, as far as they are known.
func (n *Narrator) startLine() string {
	f := n.facts
	if cur := n.proc.Agent(); cur != f.Agent && cur != stream.AgentUnknown {
		// A run of another agent than the first (two runs in one file):
		// the facts are the first one's.
		return n.paint(bold, "● "+cur.String())
	}
	agent := f.Agent.String()
	if agent == "" {
		agent = "agent unknown"
	}
	parts := []string{n.paint(bold, "● "+agent)}
	model := f.Model()
	if model == "" {
		model = n.o.Model
	}
	if model != "" {
		parts = append(parts, "model "+report.OneLine(model))
	}
	if cwd := n.cwd(); cwd != "" {
		parts = append(parts, "cwd "+report.OneLine(cwd))
	}
	if f.AgentSessionID != "" {
		parts = append(parts, "session "+report.OneLine(f.AgentSessionID))
	}
	return strings.Join(parts, "  ")
}

// endLines are the session's outcome, its tokens and its file.
func (n *Narrator) endLines(f *stream.Facts, sessionFile string) []string {
	// The result as the agent words it, where that says more than
	// success or failure: Claude Code's error_max_turns, opencode's stop.
	result, color := "no result", ""
	switch f.IsError {
	case 0:
		result, color = "success", green
		if w := f.ResultSubtype; w != "" && w != "success" {
			result += " (" + w + ")"
		}
	case 1:
		result, color = "failed", red
		w := f.ResultSubtype
		if w == "" {
			w = f.ResultType
		}
		if w != "" && w != "error" {
			result += " (" + w + ")"
		}
	}
	parts := []string{n.paint(bold, "■ ") + n.paint(color, report.OneLine(result))}
	turns := int64(n.turns)
	if f.TurnsKnown {
		turns = f.NumTurns
	}
	parts = append(parts, plural(turns, "turn"), report.Duration(max(n.o.Now().Sub(n.o.Started).Milliseconds(), 0)))
	if f.HasCost {
		parts = append(parts, report.Cost(f.CostUSD))
	}
	calls := plural(int64(n.toolCalls), "tool call")
	var notes []string
	if n.failed > 0 {
		notes = append(notes, n.paint(red, fmt.Sprintf("%d failed", n.failed)))
	}
	if len(n.calls) > 0 {
		notes = append(notes, fmt.Sprintf("%d unfinished", len(n.calls)))
	}
	if len(notes) > 0 {
		calls += " (" + strings.Join(notes, ", ") + ")"
	}
	parts = append(parts, calls)
	lines := []string{strings.Join(parts, "  ")}
	if f.HasTokens {
		t := f.Tokens
		tok := "  tokens " + count(t.Input) + " in, " + count(t.Output) + " out"
		if t.CacheRead > 0 {
			tok += ", " + count(t.CacheRead) + " cache read"
		}
		if t.CacheCreation > 0 {
			tok += ", " + count(t.CacheCreation) + " cache write"
		}
		lines = append(lines, tok)
	}
	if sessionFile != "" {
		lines = append(lines, "  session file "+sessionFile)
	} else {
		lines = append(lines, "  no session file: nothing was stored (see the warnings)")
	}
	return lines
}

// errorLine is the first line of a failed call's error that says
// something, without Claude Code's <tool_use_error> wrapper. A command's
// "Exit code N" gets the last line of its output beside it, which is where
// compilers, package managers and tracebacks say what went wrong.
func errorLine(b []byte) string {
	first, rest := nextLine(b)
	for first == "" && len(rest) > 0 {
		first, rest = nextLine(rest)
	}
	if isExitCode(first) {
		last, before := lastLine(rest)
		for last == "" && len(before) > 0 {
			last, before = lastLine(before)
		}
		if last != "" {
			return first + ": " + last
		}
	}
	return first
}

// maxLine is the most of a line of output that errorLine looks at: a
// failed command's output may be megabytes on one line.
const maxLine = 4 << 10

// nextLine and lastLine take the first and the last line of b, trimmed
// and without Claude Code's <tool_use_error> wrapper, and return the rest.
func nextLine(b []byte) (string, []byte) {
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	return cleanLine(line), rest
}

func lastLine(b []byte) (string, []byte) {
	i := bytes.LastIndexByte(b, '\n')
	return cleanLine(b[i+1:]), b[:max(i, 0)]
}

func cleanLine(l []byte) string {
	if len(l) > maxLine {
		i := maxLine
		for i > 0 && !utf8.RuneStart(l[i]) {
			i--
		}
		l = l[:i]
	}
	s := strings.ReplaceAll(string(l), "<tool_use_error>", "")
	return strings.TrimSpace(strings.ReplaceAll(s, "</tool_use_error>", ""))
}

// isExitCode says whether a line is only a command's exit status, as the
// agents write it ("Exit code 1", "Error: Exit code 2").
func isExitCode(l string) bool {
	l = strings.TrimPrefix(l, "Error: ")
	code, ok := strings.CutPrefix(l, "Exit code ")
	if !ok {
		return false
	}
	_, err := strconv.Atoi(code)
	return err == nil
}

func width(s string) int { return runewidth.StringWidth(s) }

// collapse puts a text on one line: its runs of whitespace, newlines
// included, become one space, and its ends none. With limit >= 0 it stops
// after limit characters, more than a line of that width shows, and ends
// in an ellipsis.
func collapse(s string, limit int) string {
	var b strings.Builder
	space, n := false, 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if limit >= 0 && n >= limit {
			b.WriteString(" …")
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// head is at most the first n bytes of s, cut between characters; a string
// cut short ends in " …" (fit, which cuts it to the width, then shows its
// own ellipsis).
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + " …"
}

// fit cuts s to w columns, with an ellipsis when it cuts.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	return runewidth.Truncate(s, w, "…")
}

// count is a token count as people read it: 950, 12.3k, 4.1M.
func count(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 100_000:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e3), ".0") + "k"
	case n < 1_000_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	default:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e6), ".0") + "M"
	}
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.FormatInt(n, 10) + " " + what + "s"
}

// escapeData and escapeProperty escape text for a GitHub Actions workflow
// command, whose data ends at a newline and whose properties at a comma.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
