package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/convlog/convlog/record"
)

// Clip cuts s to at most n characters, saying how many it left out, so
// that nothing is shortened silently.
func Clip(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return fmt.Sprintf("%s… [+%d chars]", s[:i], utf8.RuneCountInString(s[i:]))
}

// OneLine makes s safe to print on one line of a terminal: newlines, tabs
// and every other control character (escape sequences included) are shown
// as Go escapes instead of acting on the terminal.
func OneLine(s string) string {
	if !strings.ContainsFunc(s, needsEscape) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case needsEscape(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// line is the few fields of a stored line that digests use. Content and
// inputs stay raw so that they print in their own key order.
type line struct {
	Type     string          `json:"type"`
	Subtype  string          `json:"subtype"`
	Message  json.RawMessage `json:"message"`
	Event    json.RawMessage `json:"event"`
	Summary  *string         `json:"summary"`
	Model    string          `json:"model"`
	CWD      string          `json:"cwd"`
	Tools    []any           `json:"tools"`
	Version  string          `json:"claude_code_version"`
	Status   *string         `json:"status"`
	HookName string          `json:"hook_name"`
	ExitCode *int64          `json:"exit_code"`
	Outcome  string          `json:"outcome"`
	Compact  *struct {
		Trigger   string `json:"trigger"`
		PreTokens *int64 `json:"pre_tokens"`
	} `json:"compact_metadata"`
	IsError  bool     `json:"is_error"`
	NumTurns *int64   `json:"num_turns"`
	Duration *int64   `json:"duration_ms"`
	Cost     *float64 `json:"total_cost_usd"`
	OldCost  *float64 `json:"cost_usd"`
	Result   *string  `json:"result"`
	Errors   []any    `json:"errors"`
	Aborted  bool     `json:"aborted"`
}

type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	Name      string          `json:"name"`
	ID        string          `json:"id"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

// MessageDigest is one line that says what a stored message is: its text,
// its tool uses and results, a result's summary; the line itself when it is
// not JSON. It is not clipped; it is safe to print (see OneLine).
func MessageDigest(m *record.Message) string {
	raw, _ := validUTF8(m.Raw)
	var l line
	if !isJSONObject(raw) || json.Unmarshal(raw, &l) != nil {
		return OneLine(string(raw))
	}
	var d string
	switch l.Type {
	case "assistant", "user":
		d = messageDigest(&l)
		if l.Aborted {
			d = "(aborted) " + d
		}
	case "result":
		d = resultDigest(&l)
	case "system":
		d = systemDigest(&l)
	case "stream_event":
		d = eventDigest(l.Event)
	case "summary":
		if l.Summary != nil {
			d = "summary: " + *l.Summary
		}
	case "attachment", "permission-mode", "last-prompt", "file-history-snapshot":
		d = transcriptNoteDigest(raw, l.Type)
	}
	if d == "" {
		d = agentDigest(raw, l.Type)
	}
	if d == "" {
		d = chatDigest(raw, l.Type)
	}
	if d == "" {
		d = rolloutDigest(raw, l.Type)
	}
	if d == "" {
		d = genericDigest(raw)
	}
	if (m.IsSidechain != nil && *m.IsSidechain) || m.ParentToolUseID != nil {
		d = "(sub-agent) " + d
	}
	return OneLine(d)
}

// transcriptNoteDigest is the digest of the lines that Claude Code's
// transcripts hold beside the conversation: the files it backed up before
// an edit, and in 2.1 what it attached to a turn (a hook's output, the
// tools or skills it lists to the model, a reminder), the permission mode,
// the last prompt. Whole, they are JSON of several KB
// (a skill listing), which says less than one line.
func transcriptNoteDigest(raw []byte, typ string) string {
	var l struct {
		Snapshot *struct {
			Files map[string]json.RawMessage `json:"trackedFileBackups"`
		} `json:"snapshot"`
		Update     bool   `json:"isSnapshotUpdate"`
		Mode       string `json:"permissionMode"`
		LastPrompt string `json:"lastPrompt"`
		Attachment *struct {
			Type         string          `json:"type"`
			HookName     string          `json:"hookName"`
			Command      string          `json:"command"`
			ExitCode     json.Number     `json:"exitCode"`
			Stdout       string          `json:"stdout"`
			Stderr       string          `json:"stderr"`
			Content      json.RawMessage `json:"content"`
			AddedNames   []string        `json:"addedNames"`
			RemovedNames []string        `json:"removedNames"`
			SkillCount   json.Number     `json:"skillCount"`
			ItemCount    json.Number     `json:"itemCount"`
		} `json:"attachment"`
	}
	if json.Unmarshal(raw, &l) != nil {
		return ""
	}
	switch typ {
	case "file-history-snapshot":
		if l.Snapshot == nil {
			return ""
		}
		s := fmt.Sprintf("file history snapshot: %d files", len(l.Snapshot.Files))
		if l.Update {
			s += " (update)"
		}
		return s
	case "permission-mode":
		return "permission mode " + l.Mode
	case "last-prompt":
		return "last prompt: " + l.LastPrompt
	}
	a := l.Attachment
	if a == nil || a.Type == "" {
		return ""
	}
	s := "attachment " + a.Type
	switch {
	case a.HookName != "":
		s += " " + a.HookName
		if a.Command != "" {
			s += " (" + a.Command
			if a.ExitCode != "" {
				s += ", exit " + a.ExitCode.String()
			}
			s += ")"
		}
		var text string
		if json.Unmarshal(a.Content, &text) != nil {
			text = compactJSON(a.Content)
		}
		if out := strings.TrimSpace(cmpOr(a.Stderr, text, a.Stdout)); out != "" {
			s += ": " + out
		}
	case len(a.AddedNames) > 0 || len(a.RemovedNames) > 0:
		s += fmt.Sprintf(": %d tools added, %d removed", len(a.AddedNames), len(a.RemovedNames))
	case a.SkillCount != "":
		s += ": " + a.SkillCount.String() + " skills"
	case a.ItemCount != "":
		s += ": " + a.ItemCount.String() + " items"
	}
	return s
}

func messageDigest(l *line) string {
	var msg struct {
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(l.Message, &msg) != nil || len(msg.Content) == 0 {
		return ""
	}
	var text string
	if json.Unmarshal(msg.Content, &text) == nil {
		return "text: " + text
	}
	var blocks []block
	if json.Unmarshal(msg.Content, &blocks) != nil {
		return ""
	}
	parts := make([]string, 0, len(blocks))
	for _, b := range blocks {
		parts = append(parts, blockDigest(&b))
	}
	return strings.Join(parts, " | ")
}

func blockDigest(b *block) string {
	switch b.Type {
	case "text":
		return "text: " + b.Text
	case "thinking":
		if b.Thinking == "" {
			return "thinking"
		}
		return "thinking: " + b.Thinking
	case "redacted_thinking":
		return "thinking (redacted)"
	case "tool_use":
		return strings.TrimSpace("tool_use " + b.Name + " " + compactJSON(b.Input))
	case "tool_result":
		s := "tool_result " + b.ToolUseID
		if b.IsError {
			s += " (error)"
		}
		return s + ": " + contentText(b.Content)
	case "":
		return "?"
	default:
		return b.Type
	}
}

// contentText renders tool_result content as the writer stores it: a
// string as is, text blocks by their text, other blocks by their type.
func contentText(c json.RawMessage) string {
	var s string
	if json.Unmarshal(c, &s) == nil {
		return s
	}
	var blocks []block
	if json.Unmarshal(c, &blocks) != nil {
		return compactJSON(c)
	}
	parts := make([]string, 0, len(blocks))
	for _, b := range blocks {
		if b.Type == "text" {
			parts = append(parts, b.Text)
		} else {
			parts = append(parts, "["+b.Type+"]")
		}
	}
	return strings.Join(parts, "\n")
}

func resultDigest(l *line) string {
	var parts []string
	if l.IsError {
		parts = append(parts, "is_error")
	}
	if l.NumTurns != nil {
		parts = append(parts, plural(*l.NumTurns, "turn"))
	}
	if l.Duration != nil {
		parts = append(parts, fmt.Sprintf("%dms", *l.Duration))
	}
	cost := l.Cost
	if cost == nil {
		cost = l.OldCost
	}
	if cost != nil {
		parts = append(parts, Cost(*cost))
	}
	s := strings.Join(parts, ", ")
	switch {
	case l.Result != nil:
		s += ": " + *l.Result
	case len(l.Errors) > 0:
		var errs []string
		for _, e := range l.Errors {
			if t, ok := e.(string); ok {
				errs = append(errs, t)
			} else {
				b, _ := json.Marshal(e)
				errs = append(errs, string(b))
			}
		}
		s += ": errors: " + strings.Join(errs, "; ")
	}
	return s
}

func systemDigest(l *line) string {
	var parts []string
	add := func(format string, v any) { parts = append(parts, fmt.Sprintf(format, v)) }
	switch {
	case l.Subtype == "init":
		if l.Model != "" {
			add("model %s", l.Model)
		}
		if l.CWD != "" {
			add("cwd %s", l.CWD)
		}
		if l.Tools != nil {
			parts = append(parts, plural(int64(len(l.Tools)), "tool"))
		}
		if l.Version != "" {
			add("version %s", l.Version)
		}
	case strings.HasPrefix(l.Subtype, "hook_"):
		if l.HookName != "" {
			parts = append(parts, l.HookName)
		}
		if l.ExitCode != nil {
			add("exit %d", *l.ExitCode)
		}
		if l.Outcome != "" {
			parts = append(parts, l.Outcome)
		}
	case l.Subtype == "compact_boundary" && l.Compact != nil:
		if l.Compact.Trigger != "" {
			add("trigger %s", l.Compact.Trigger)
		}
		if l.Compact.PreTokens != nil {
			add("%d tokens before", *l.Compact.PreTokens)
		}
	case l.Status != nil:
		parts = append(parts, *l.Status)
	}
	return strings.Join(parts, ", ")
}

func eventDigest(raw json.RawMessage) string {
	var ev struct {
		Type  string `json:"type"`
		Delta *struct {
			Type        string  `json:"type"`
			Text        *string `json:"text"`
			Thinking    *string `json:"thinking"`
			PartialJSON *string `json:"partial_json"`
			StopReason  *string `json:"stop_reason"`
		} `json:"delta"`
		Block *block `json:"content_block"`
	}
	if json.Unmarshal(raw, &ev) != nil || ev.Type == "" {
		return ""
	}
	s := ev.Type
	if d := ev.Delta; d != nil {
		if d.Type != "" {
			s += " " + d.Type
		}
		for _, v := range []*string{d.Text, d.Thinking, d.PartialJSON} {
			if v != nil {
				if *v != "" {
					s += ": " + *v
				}
				break
			}
		}
		if d.StopReason != nil {
			s += " stop_reason " + *d.StopReason
		}
	}
	if b := ev.Block; b != nil {
		s += " " + b.Type
		if b.Name != "" {
			s += " " + b.Name
		}
	}
	return s
}

// genericDigest is a line of a kind without a digest of its own: its JSON
// without the fields every line has.
func genericDigest(raw []byte) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return string(raw)
	}
	for _, k := range []string{"type", "subtype", "uuid", "session_id"} {
		delete(obj, k)
	}
	if len(obj) == 0 {
		return ""
	}
	b, _ := marshalNoEscape(obj)
	return string(b)
}

func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Cost is a cost in US dollars as people read it.
func Cost(usd float64) string {
	return fmt.Sprintf("$%.4f", usd)
}
