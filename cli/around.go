package cli

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// `convlog query <session> --around SEQUENCE` shows a hit of convlog search
// in its context: the messages before and after it, and its text whole.

// aroundSpan is how many messages --around shows on each side.
const aroundSpan = 5

// near says whether a message is shown with --around (always without it).
func (c *QueryCmd) near(seq int64) bool {
	return c.Around == nil || (seq >= *c.Around-aroundSpan && seq <= *c.Around+aroundSpan)
}

// nearCall says whether a tool call is shown with --around: its tool_use
// or its tool_result is among the messages shown.
func (c *QueryCmd) nearCall(t *record.ToolCall) bool {
	if c.Around == nil {
		return true
	}
	for _, id := range []*string{t.MessageID, t.ResultMessageID} {
		if id == nil {
			continue
		}
		if i := strings.LastIndex(*id, "-msg-"); i >= 0 {
			if seq, err := strconv.ParseInt((*id)[i+len("-msg-"):], 10, 64); err == nil && c.near(seq) {
				return true
			}
		}
	}
	return false
}

// writeWhole writes the searchable text of message seq whole, with that
// of the tool calls it starts or answers: what a hit's snippet was cut
// from.
func writeWhole(ctx context.Context, r *record.Reader, sessionID string, t *report.Text, out *bufio.Writer, seq int64, m *record.Message) error {
	t.Section(fmt.Sprintf("Message %d", seq))
	if m == nil {
		return t.None()
	}
	docs := archive.MessageDocs(deref(m.Type), deref(m.Subtype), m.Raw)
	err := r.ToolCalls(ctx, sessionID, func(c *record.ToolCall) error {
		input, output := deref(c.MessageID) == m.ID, deref(c.ResultMessageID) == m.ID
		if !input && !output {
			return nil
		}
		for _, d := range archive.ToolCallDocs(deref(c.ToolName), deref(c.ToolInput), deref(c.ToolOutput), deref(c.Status), deref(c.Error)) {
			if (d.Part == archive.PartInput && input) || (d.Part == archive.PartOutput && output) {
				docs = append(docs, d)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		fmt.Fprintln(out, "(no text to search: see its line above)")
	}
	for i, d := range docs {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "[%s]\n%s\n", where(d), safeLines(strings.TrimRight(d.Text, "\n")))
	}
	return t.Err()
}

// safeLines is text safe to print on a terminal, its lines kept: control
// characters but newline and tab (escape sequences above all) are shown
// as Go escapes.
func safeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		parts := strings.Split(l, "\t")
		for j, p := range parts {
			parts[j] = report.OneLine(p)
		}
		lines[i] = strings.Join(parts, "\t")
	}
	return strings.Join(lines, "\n")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
