package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/convlog/convlog/record"
)

// Limits of the Markdown summary. A step summary is capped by GitHub (1 MiB
// per step), and a summary is read on one page: long texts are cut with a
// visible marker, and the full record is one `convlog query` away.
const (
	MarkdownTools       = 50   // rows of the tools table
	MarkdownFailures    = 20   // failed calls listed
	MarkdownErrorWidth  = 500  // characters of each failed call's error
	MarkdownResultWidth = 8000 // characters of the final result text
	markdownNameWidth   = 100  // characters of names and ids
)

// Markdown is a session summary in GitHub-flavoured Markdown, made for
// $GITHUB_STEP_SUMMARY: the outcome and figures, a table of tools, the
// failed calls with their errors, and the final result text. Everything
// taken from the transcript is escaped (in table cells and inline) or
// fenced (the result text), so that it can neither break the layout nor
// bring in HTML.
//
// Feed it the session's tool calls (record.Reader.ToolOutcomes is enough)
// and its last result line, then write it.
type Markdown struct {
	s       *record.Session
	tools   map[string]*toolFigures
	calls   int
	errors  int
	pending int
	failed  []*record.ToolCall // the first MarkdownFailures
	result  *record.Message
	final   []*record.Message // record.Reader.FinalMessages, for other agents than Claude Code
}

type toolFigures struct {
	name      string
	calls     int
	errors    int
	durations []int64 // of the calls whose duration is known
}

// NewMarkdown starts the summary of s.
func NewMarkdown(s *record.Session) *Markdown {
	return &Markdown{s: s, tools: map[string]*toolFigures{}}
}

// ToolCall adds one tool call to the figures.
func (m *Markdown) ToolCall(c *record.ToolCall) error {
	name := unknown
	if c.ToolName != nil {
		name = *c.ToolName
	}
	t := m.tools[name]
	if t == nil {
		t = &toolFigures{name: name}
		m.tools[name] = t
	}
	m.calls++
	t.calls++
	if c.DurationMS != nil {
		t.durations = append(t.durations, *c.DurationMS)
	}
	switch {
	case c.Status == nil:
	case *c.Status == "error":
		m.errors++
		t.errors++
		if len(m.failed) < MarkdownFailures {
			m.failed = append(m.failed, c)
		}
	case *c.Status == "pending":
		m.pending++
	}
	return nil
}

// Result sets the session's last result line (nil when it has none).
func (m *Markdown) Result(msg *record.Message) { m.result = msg }

// WriteTo writes the summary, which starts with a heading and ends with a
// newline.
func (m *Markdown) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	m.header(&b)
	m.toolTable(&b)
	m.failures(&b)
	m.finalResult(&b)
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func (m *Markdown) header(b *strings.Builder) {
	s := m.s
	icon, result := m.outcome()
	fmt.Fprintf(b, "### %s convlog session %s\n\n", icon, codeSpan(Clip(s.ID, markdownNameWidth)))

	dur := unknown
	switch {
	case s.DurationMS != nil:
		dur = Duration(*s.DurationMS)
	case s.Incomplete():
		dur = "incomplete"
	}
	cost := unknown
	if s.TotalCostUSD != nil {
		cost = Cost(*s.TotalCostUSD)
	}
	tokens := Tokens(s)
	if tokens == "" {
		tokens = unknown
	}
	calls := strconv.Itoa(m.calls)
	if m.errors > 0 {
		calls += fmt.Sprintf(" (%d failed)", m.errors)
	}
	// The agent's column only where the session names it, so that older
	// sessions read as before.
	agentHead, agentAlign, agentCell := "", "", ""
	if s.Agent != nil {
		agentHead, agentAlign, agentCell = " Agent |", ":--|", " "+cell(*s.Agent, markdownNameWidth)+" |"
	}
	b.WriteString("| Result |" + agentHead + " Model | Duration | Cost | Tokens | Turns | Tool calls |\n")
	b.WriteString("|:--|" + agentAlign + ":--|--:|--:|:--|--:|--:|\n")
	fmt.Fprintf(b, "| %s |%s %s | %s | %s | %s | %s | %s |\n",
		cell(result, markdownNameWidth), agentCell, cell(orUnknown(s.Model), markdownNameWidth), dur, cost, tokens,
		intOr(s.NumTurns), calls)

	var notes []string
	if s.Incomplete() {
		notes = append(notes, "The session has no end: its logger is still running, or was killed.")
	}
	if s.LinesDropped != nil && *s.LinesDropped > 0 {
		notes = append(notes, fmt.Sprintf("%s could not be logged; the figures leave them out.", plural(*s.LinesDropped, "input line")))
	}
	if m.pending > 0 {
		notes = append(notes, fmt.Sprintf("%s got no result.", plural(int64(m.pending), "tool call")))
	}
	for _, n := range notes {
		fmt.Fprintf(b, "\n⚠️ %s\n", n)
	}
}

// outcome is the session's icon and its result in words.
func (m *Markdown) outcome() (icon, result string) {
	s := m.s
	isError := s.IsError != nil && *s.IsError
	switch {
	case s.ResultType == nil && s.Incomplete():
		return "⚠️", "incomplete, no result yet"
	case s.ResultType == nil:
		return "⚠️", ResultText(s)
	}
	result = *s.ResultType
	if result == "result" && s.ResultSubtype != nil {
		result = *s.ResultSubtype
	} else if s.ResultSubtype != nil {
		result += " (" + *s.ResultSubtype + ")"
	}
	if isError && !strings.HasPrefix(result, "error") {
		result += " (is_error)"
	}
	switch {
	case s.Incomplete():
		return "⚠️", "incomplete, last result " + result
	case isError:
		return "❌", result
	default:
		return "✅", result
	}
}

func (m *Markdown) toolTable(b *strings.Builder) {
	b.WriteString("\n#### Tools\n\n")
	if len(m.tools) == 0 {
		b.WriteString("No tool calls.\n")
		return
	}
	rows := make([]*toolFigures, 0, len(m.tools))
	for _, t := range m.tools {
		rows = append(rows, t)
	}
	slices.SortFunc(rows, func(a, b *toolFigures) int {
		if a.calls != b.calls {
			return b.calls - a.calls
		}
		return strings.Compare(a.name, b.name)
	})
	b.WriteString("| Tool | Calls | Errors | Total | p95 |\n")
	b.WriteString("|:--|--:|--:|--:|--:|\n")
	for i, t := range rows {
		if i == MarkdownTools {
			rest := 0
			for _, t := range rows[i:] {
				rest += t.calls
			}
			fmt.Fprintf(b, "\n…and %s more (%s).\n", plural(int64(len(rows)-i), "tool"), plural(int64(rest), "call"))
			break
		}
		total, p95 := "–", "–"
		if len(t.durations) > 0 {
			var sum int64
			for _, d := range t.durations {
				sum += d
			}
			total, p95 = Duration(sum), Duration(Percentile(t.durations, 95))
		}
		fmt.Fprintf(b, "| %s | %d | %d | %s | %s |\n", cell(t.name, markdownNameWidth), t.calls, t.errors, total, p95)
	}
}

// Percentile is the p-th percentile of values by the nearest-rank method:
// the smallest value that at least p% of the values do not exceed, so that
// it is always one of the values. It sorts values in place.
func Percentile(values []int64, p float64) int64 {
	if len(values) == 0 {
		return 0
	}
	slices.Sort(values)
	rank := int(math.Ceil(p / 100 * float64(len(values))))
	return values[min(max(rank, 1), len(values))-1]
}

func (m *Markdown) failures(b *strings.Builder) {
	if m.errors == 0 {
		return
	}
	b.WriteString("\n#### Failed tool calls\n\n")
	b.WriteString("| # | Tool | Duration | Error |\n")
	b.WriteString("|--:|:--|--:|:--|\n")
	for _, c := range m.failed {
		seq := "?"
		if c.Sequence != nil {
			seq = strconv.FormatInt(*c.Sequence, 10)
		}
		dur := "–"
		if c.DurationMS != nil {
			dur = Duration(*c.DurationMS)
		}
		text := "(no error text)"
		if c.Error != nil && strings.TrimSpace(*c.Error) != "" {
			text = strings.TrimRight(*c.Error, " \t\r\n")
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", seq, cell(orUnknown(c.ToolName), markdownNameWidth), dur, cell(text, MarkdownErrorWidth))
	}
	if more := m.errors - len(m.failed); more > 0 {
		fmt.Fprintf(b, "\n…and %d more; %s lists every call.\n", more, codeSpan("convlog query "+Clip(m.s.ID, markdownNameWidth)+" --tools"))
	}
}

// Final takes the messages that hold the session's outcome, as
// record.Reader.FinalMessages gives them: for any agent, where Result takes
// Claude Code's result line only.
func (m *Markdown) Final(msgs []*record.Message) {
	m.final = msgs
	for _, msg := range msgs {
		if msg.Type != nil && *msg.Type == "result" {
			m.result = msg
		}
	}
}

// otherAgent says whether the session is another agent's than Claude Code's
// or Cursor's (whose result lines are alike).
func (m *Markdown) otherAgent() bool {
	if m.s.Agent == nil {
		return false
	}
	a := *m.s.Agent
	return a == "gemini-cli" || a == "codex" || a == "opencode"
}

// agentFinal is another agent's final answer and error, from its messages.
func (m *Markdown) agentFinal() (answer, failure string) {
	var parts []string
	for _, msg := range m.final {
		raw, _ := validUTF8(msg.Raw)
		var l struct {
			Type     string      `json:"type"`
			Content  string      `json:"content"`
			Response string      `json:"response"` // gemini -p --output-format json
			Status   string      `json:"status"`
			Error    *agentError `json:"error"`
			Item     struct {
				Text string `json:"text"`
			} `json:"item"`
			Part struct {
				Text string `json:"text"`
			} `json:"part"`
			Message string `json:"message"`
			Msg     struct {
				Type      string `json:"type"`
				Message   string `json:"message"`
				LastAgent string `json:"last_agent_message"`
			} `json:"msg"`
		}
		if json.Unmarshal(raw, &l) != nil {
			continue
		}
		switch {
		case l.Type == "" && l.Response != "":
			parts = append(parts[:0], l.Response)
		case l.Type == "message": // Gemini's deltas
			parts = append(parts, l.Content)
		case l.Type == "gemini": // Gemini CLI's saved chats: the model's last turn
			parts = append(parts[:0], l.Content)
		case l.Type == "item.completed": // Codex's last agent message
			parts = append(parts, l.Item.Text)
		case l.Type == "text": // opencode's text parts
			parts = append(parts, l.Part.Text)
		case l.Msg.Type == "task_complete":
			parts = append(parts, l.Msg.LastAgent)
		case l.Msg.Type == "error":
			failure = l.Msg.Message
		case l.Error != nil:
			failure = cmpOr(l.Error.Message, l.Error.Data.Message, l.Error.Name)
		case l.Type == "error":
			failure = cmpOr(l.Message, l.Content) // a saved chat's: its content
		}
	}
	sep := "\n"
	if m.s.Agent != nil && *m.s.Agent == "gemini-cli" {
		sep = "" // deltas of one text
	}
	return strings.Join(parts, sep), failure
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func (m *Markdown) finalResult(b *strings.Builder) {
	b.WriteString("\n#### Result\n\n")
	if m.otherAgent() {
		answer, failure := m.agentFinal()
		answer = strings.TrimRight(answer, " \t\r\n")
		switch {
		case strings.TrimSpace(answer) == "" && failure == "" && m.s.Incomplete():
			b.WriteString("No final message yet.\n")
		case strings.TrimSpace(answer) == "" && failure == "":
			b.WriteString("No final message: the stream ended without one.\n")
		}
		if strings.TrimSpace(answer) != "" {
			b.WriteString(fenced(Clip(answer, MarkdownResultWidth)))
		}
		if failure != "" {
			b.WriteString("\nError:\n\n" + fenced(Clip(strings.TrimRight(failure, " \t\r\n"), MarkdownResultWidth)))
		}
		return
	}
	if m.result == nil {
		switch {
		case m.s.Incomplete():
			b.WriteString("No result line yet.\n")
		case m.s.SourceFormat != nil && *m.s.SourceFormat == "transcript":
			b.WriteString("No result line: transcripts have none.\n")
		default:
			b.WriteString("No result line: the stream ended without one.\n")
		}
		return
	}
	raw, _ := validUTF8(m.result.Raw)
	var l line
	if json.Unmarshal(raw, &l) != nil {
		b.WriteString("The result line is not valid JSON.\n")
		return
	}
	var text string
	switch {
	case l.Result != nil:
		text = *l.Result
	case len(l.Errors) > 0:
		errs := make([]string, 0, len(l.Errors))
		for _, e := range l.Errors {
			if t, ok := e.(string); ok {
				errs = append(errs, t)
			} else {
				j, _ := marshalNoEscape(e)
				errs = append(errs, string(j))
			}
		}
		text = strings.Join(errs, "\n")
	}
	if strings.TrimSpace(text) == "" {
		b.WriteString("The result line has no text.\n")
		return
	}
	b.WriteString(fenced(Clip(strings.TrimRight(text, " \t\r\n"), MarkdownResultWidth)))
}

// fenced puts text in a fenced code block, where Markdown and HTML are shown
// as they are. The fence is longer than any run of backticks in the text, so
// that nothing in it can close the block; control characters other than
// newline and tab are shown as escapes.
func fenced(text string) string {
	text = strings.ReplaceAll(strings.ToValidUTF8(text, "\uFFFD"), "\r\n", "\n")
	var body strings.Builder
	for _, r := range text {
		if r != '\n' && r != '\t' && needsEscape(r) {
			q := strconv.QuoteRune(r)
			body.WriteString(q[1 : len(q)-1])
			continue
		}
		body.WriteRune(r)
	}
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	return fence + "\n" + body.String() + "\n" + fence + "\n"
}

// codeSpan puts s, on one line, in an inline code span.
func codeSpan(s string) string {
	s = OneLine(strings.ToValidUTF8(s, "\uFFFD"))
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// cell is s cut to width characters (0: not cut) and escaped for a table
// cell (see MarkdownEscape).
func cell(s string, width int) string {
	return MarkdownEscape(Clip(strings.TrimSpace(s), width))
}

// MarkdownEscape makes s literal text in a line of GitHub-flavoured
// Markdown, a table cell included: the characters that Markdown or a table
// would act on are backslash-escaped, '<', '>' and '&' become entities so
// that no HTML gets through, newlines become <br> so that a cell stays one
// line, and other control characters are shown as escapes.
func MarkdownEscape(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i, r := range s {
		switch r {
		case '\r':
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteString(`\\r`)
			}
		case '\n':
			b.WriteString("<br>")
		case '\t':
			b.WriteByte(' ')
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '#', '!', '$', '{', '}':
			// '$' starts math and '{', '}' its arguments on GitHub.
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if needsEscape(r) {
				q := strconv.QuoteRune(r)
				b.WriteString(strings.ReplaceAll(q[1:len(q)-1], `\`, `\\`))
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
