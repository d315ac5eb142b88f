// Package web shows sessions as web pages: a self-contained page per
// session (convlog html), and the read-only local web app of convlog serve.
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// Page is what a session page shows, as its script reads it (one JSON
// document in the page). Each tool's input and output are in it once, in
// Calls; messages refer to them by id, so that a page is about as big as
// the text it shows.
type Page struct {
	Session SessionView `json:"session"`
	Items   []Item      `json:"items"`
	Calls   []Call      `json:"calls"`
	Hidden  int64       `json:"hidden"` // stream_event lines (partial messages), not shown
	Live    *Live       `json:"live"`   // set when the page follows a running session
	Now     int64       `json:"now"`    // when the page was made, Unix ms

	// The last message and tool call sequences read: a live page's
	// event stream starts after them.
	LastSeq  int64 `json:"-"`
	LastCall int64 `json:"-"`
}

// Live says where a page that follows a running session gets what comes
// next.
type Live struct {
	URL       string `json:"url"`       // the event stream, relative to the page
	After     int64  `json:"after"`     // the last message sequence the page holds
	CallAfter int64  `json:"callAfter"` // the last tool call sequence it holds
}

// Delta is what a running session logged since the last one: new messages,
// new and changed tool calls (a result arrived), and the session row as it
// is now.
type Delta struct {
	Session SessionView `json:"session"`
	Items   []Item      `json:"items"`
	Calls   []Call      `json:"calls"`
	Hidden  int64       `json:"hidden"`
	Now     int64       `json:"now"`
	Ended   bool        `json:"ended"` // the session has ended: no more deltas
}

// SessionView is the session's header: its figures as people read them.
type SessionView struct {
	ID             string   `json:"id"`
	Model          string   `json:"model,omitempty"`
	Agent          string   `json:"agent,omitempty"`
	Mode           string   `json:"mode,omitempty"`
	Result         string   `json:"result"`  // the result line's subtype, or why there is none
	Outcome        string   `json:"outcome"` // success, error, running, incomplete, none
	Start          *int64   `json:"start"`
	End            *int64   `json:"end"`
	Dur            *int64   `json:"dur"`
	Cost           *float64 `json:"cost"`
	CostKind       string   `json:"costKind,omitempty"` // reported, estimated
	CostNote       string   `json:"costNote,omitempty"`
	Tokens         *Tokens  `json:"tokens"`
	Messages       *int64   `json:"messages"`
	ToolCalls      *int64   `json:"toolCalls"`
	Turns          *int64   `json:"turns"`
	CWD            string   `json:"cwd,omitempty"`
	Repo           string   `json:"repo,omitempty"`
	RunID          string   `json:"runId,omitempty"`
	RunURL         string   `json:"runUrl,omitempty"`
	Ref            string   `json:"ref,omitempty"`
	Branch         string   `json:"branch,omitempty"`
	Source         string   `json:"source,omitempty"`
	AgentSessionID string   `json:"agentSessionId,omitempty"`
	Redactions     int64    `json:"redactions,omitempty"`
	LinesDropped   int64    `json:"linesDropped,omitempty"`
	Running        bool     `json:"running"`
}

// Tokens are a session's token counts.
type Tokens struct {
	In     int64 `json:"in"`
	Out    int64 `json:"out"`
	CacheW int64 `json:"cacheWrite"`
	CacheR int64 `json:"cacheRead"`
}

// Item is one stored line as the conversation shows it.
type Item struct {
	S  int64   `json:"s"`            // sequence
	T  *int64  `json:"t,omitempty"`  // Unix ms
	K  string  `json:"k"`            // user, assistant, system, result, raw, other
	L  string  `json:"l,omitempty"`  // the subtype, or the type of an other line
	P  string  `json:"p,omitempty"`  // parent tool use id: a sub-agent's line
	SC bool    `json:"sc,omitempty"` // a transcript's sidechain (sub-agent) line
	A  string  `json:"a,omitempty"`  // API message id
	Ab bool    `json:"ab,omitempty"` // aborted
	B  []Block `json:"b,omitempty"`
	X  string  `json:"x,omitempty"` // text of a line without blocks (a digest, a result's text, the raw line)
	R  *Result `json:"r,omitempty"`
}

// Block is one content block of a message.
type Block struct {
	K string `json:"k"`           // text, thinking, tool, result, image, other
	X string `json:"x,omitempty"` // the text
	I string `json:"i,omitempty"` // the tool_use id (tool, result)
	E bool   `json:"e,omitempty"` // result: is_error
}

// Result is what a result line says beside its text.
type Result struct {
	Err    bool     `json:"err"`
	Dur    *int64   `json:"dur,omitempty"`
	Turns  *int64   `json:"turns,omitempty"`
	Cost   *float64 `json:"cost,omitempty"`
	Errors []string `json:"errors,omitempty"`
}

// Call is one tool call.
type Call struct {
	ID  string          `json:"id"`
	N   string          `json:"n"`
	St  string          `json:"st"` // success, error, pending
	Seq *int64          `json:"q"`
	T0  *int64          `json:"t0"` // the tool_use, Unix ms
	T1  *int64          `json:"t1"` // the tool_result
	D   *int64          `json:"d"`  // duration, ms
	P   string          `json:"p,omitempty"`
	SC  bool            `json:"sc,omitempty"`
	M   *int64          `json:"m"` // sequence of the message with the tool_use
	In  json.RawMessage `json:"in,omitempty"`
	Out *string         `json:"out,omitempty"`
	Err *string         `json:"err,omitempty"` // only when it differs from Out
}

// Build reads a whole session from src.
func Build(ctx context.Context, src Source, running bool) (*Page, error) {
	s, err := src.Session(ctx)
	if err != nil {
		return nil, err
	}
	b := newBuilder()
	pg := &Page{Session: View(s, running), Items: []Item{}, Calls: []Call{}, Now: time.Now().UnixMilli()}
	if err := src.ToolCalls(ctx, func(t *record.ToolCall) error { b.call(t); return nil }); err != nil {
		return nil, err
	}
	if err := src.Messages(ctx, func(m *record.Message) error { b.message(m); return nil }); err != nil {
		return nil, err
	}
	pg.Items, pg.Calls, pg.Hidden = b.finish()
	pg.LastSeq, pg.LastCall = b.lastSeq, b.lastCall
	return pg, nil
}

// builder turns rows into items and calls; it keeps what it needs to place
// tool calls in their messages across the deltas of a running session.
type builder struct {
	p         fastjson.Parser
	items     []Item
	calls     []Call
	index     map[string]int // call id → index in calls, for this batch
	known     map[string]bool
	placed    map[string]bool
	sidechain map[int64]bool // sequences of sidechain lines
	hidden    int64
	lastSeq   int64
	lastCall  int64
}

func newBuilder() *builder {
	return &builder{index: map[string]int{}, known: map[string]bool{}, placed: map[string]bool{},
		sidechain: map[int64]bool{}, lastSeq: -1, lastCall: -1}
}

// finish places the calls that no message block names (agents whose lines
// convlog maps into tool_calls without tool_use blocks) in the message of
// their tool_use, and hands over the batch.
func (b *builder) finish() ([]Item, []Call, int64) {
	for i := range b.calls {
		c := &b.calls[i]
		if c.SC || (c.M != nil && b.sidechain[*c.M]) {
			c.SC = true
		}
		if b.placed[c.ID] {
			continue
		}
		b.placed[c.ID] = true
		block := Block{K: "tool", I: c.ID}
		at := -1
		if c.M != nil {
			at, _ = slices.BinarySearchFunc(b.items, *c.M, func(it Item, s int64) int { return cmpInt(it.S, s) })
			if at < len(b.items) && b.items[at].S == *c.M {
				b.items[at].B = append(b.items[at].B, block)
				continue
			}
		}
		it := Item{S: b.lastSeq, T: c.T0, K: "assistant", P: c.P, B: []Block{block}}
		if c.M != nil {
			it.S = *c.M
		}
		if at < 0 {
			at = len(b.items)
		}
		b.items = slices.Insert(b.items, at, it)
	}
	items, calls, hidden := b.items, b.calls, b.hidden
	if items == nil {
		items = []Item{}
	}
	if calls == nil {
		calls = []Call{}
	}
	b.items, b.calls, b.hidden = nil, nil, 0
	clear(b.index)
	return items, calls, hidden
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var msgSeq = regexp.MustCompile(`-msg-(\d+)$`)

func (b *builder) call(t *record.ToolCall) {
	c := Call{ID: t.ID, N: deref(t.ToolName), St: status(t.Status), Seq: t.Sequence, T0: t.Timestamp, T1: t.CompletedAt,
		D: t.DurationMS, P: deref(t.ParentToolUseID), Out: t.ToolOutput}
	if t.MessageID != nil {
		if m := msgSeq.FindStringSubmatch(*t.MessageID); m != nil {
			if n, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				c.M = &n
			}
		}
	}
	if t.ToolInput != nil {
		if in := []byte(*t.ToolInput); json.Valid(in) {
			c.In = compact(in)
		} else {
			c.In, _ = json.Marshal(*t.ToolInput)
		}
	}
	if t.Error != nil && (t.ToolOutput == nil || *t.Error != *t.ToolOutput) {
		c.Err = t.Error
	}
	if t.Sequence != nil && *t.Sequence > b.lastCall {
		b.lastCall = *t.Sequence
	}
	b.known[c.ID] = true
	if i, ok := b.index[c.ID]; ok {
		b.calls[i] = c
		return
	}
	b.index[c.ID] = len(b.calls)
	b.calls = append(b.calls, c)
}

func compact(in []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, in) != nil {
		return in
	}
	return buf.Bytes()
}

func status(s *string) string {
	if s == nil {
		return "pending"
	}
	switch *s {
	case "success", "error", "pending":
		return *s
	}
	return "pending"
}

func (b *builder) message(m *record.Message) {
	if m.Sequence > b.lastSeq {
		b.lastSeq = m.Sequence
	}
	it := Item{S: m.Sequence, T: m.Timestamp, P: deref(m.ParentToolUseID), A: deref(m.APIMessageID)}
	if m.IsSidechain != nil && *m.IsSidechain {
		it.SC = true
		b.sidechain[m.Sequence] = true
	}
	raw := m.Raw
	if !utf8.Valid(raw) {
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	}
	v, err := b.p.ParseBytes(raw)
	if err != nil || v.Type() != fastjson.TypeObject {
		it.K, it.L, it.X = "raw", "not JSON", string(raw)
		b.items = append(b.items, it)
		return
	}
	typ := deref(m.Type)
	if typ == "" {
		typ = string(v.GetStringBytes("type"))
	}
	switch typ {
	case "assistant", "user":
		it.K = typ
		it.Ab = v.GetBool("aborted")
		if msg := v.Get("message"); msg == nil && v.Exists("content") {
			chatBlocks(&it, v) // Gemini CLI's saved chats
		} else if !b.content(&it, msg) {
			return // only tool results, shown with their calls
		}
	case "gemini":
		// Gemini CLI's saved chats: the model's turn, its tool calls
		// placed in it by finish.
		it.K = "assistant"
		chatBlocks(&it, v)
	case "result":
		it.K, it.L = "result", deref(m.Subtype)
		r := &Result{Err: v.GetBool("is_error"), Dur: intOf(v, "duration_ms"), Turns: intOf(v, "num_turns"), Cost: floatOf(v, "total_cost_usd")}
		if r.Cost == nil {
			r.Cost = floatOf(v, "cost_usd")
		}
		if res := v.Get("result"); res != nil && res.Type() == fastjson.TypeString {
			it.X = string(res.GetStringBytes())
		}
		for _, e := range v.GetArray("errors") {
			if e.Type() == fastjson.TypeString {
				r.Errors = append(r.Errors, string(e.GetStringBytes()))
			} else {
				r.Errors = append(r.Errors, string(e.MarshalTo(nil)))
			}
		}
		it.R = r
	case "system":
		it.K, it.L = "system", deref(m.Subtype)
		it.X = report.MessageDigest(m)
	case "stream_event":
		b.hidden++
		return
	default:
		it.K, it.L = "other", typ
		it.X = report.MessageDigest(m)
	}
	b.items = append(b.items, it)
}

// chatBlocks reads a message of Gemini CLI's saved chats into it.B: its
// thoughts (a subject and a description each), then its text, a string or
// a list of {"text": …} parts.
func chatBlocks(it *Item, v *fastjson.Value) {
	for _, t := range v.GetArray("thoughts") {
		it.B = append(it.B, Block{K: "thinking", X: strings.TrimSpace(string(t.GetStringBytes("subject")) + "\n" + string(t.GetStringBytes("description")))})
	}
	c := v.Get("content")
	if c != nil && c.Type() == fastjson.TypeString {
		if s := c.GetStringBytes(); len(s) > 0 {
			it.B = append(it.B, Block{K: "text", X: string(s)})
		}
		return
	}
	for _, part := range c.GetArray() {
		if s := part.GetStringBytes("text"); len(s) > 0 {
			it.B = append(it.B, Block{K: "text", X: string(s)})
		}
	}
}

// content reads a message's content into it.B; it says false for a user
// line that holds nothing but results of known tool calls.
func (b *builder) content(it *Item, msg *fastjson.Value) bool {
	if msg == nil {
		return true
	}
	c := msg.Get("content")
	if c == nil {
		return true
	}
	if c.Type() == fastjson.TypeString {
		it.B = append(it.B, Block{K: "text", X: string(c.GetStringBytes())})
		return true
	}
	results := 0
	for _, bl := range c.GetArray() {
		switch string(bl.GetStringBytes("type")) {
		case "text":
			it.B = append(it.B, Block{K: "text", X: string(bl.GetStringBytes("text"))})
		case "thinking":
			it.B = append(it.B, Block{K: "thinking", X: string(bl.GetStringBytes("thinking"))})
		case "redacted_thinking":
			it.B = append(it.B, Block{K: "thinking", X: "(redacted by the API)"})
		case "tool_use":
			id := string(bl.GetStringBytes("id"))
			if b.placed[id] {
				continue // a repeated tool_use id: the call is shown once
			}
			b.placed[id] = true
			it.B = append(it.B, Block{K: "tool", I: id})
		case "tool_result":
			results++
			id := string(bl.GetStringBytes("tool_use_id"))
			if b.known[id] {
				continue
			}
			it.B = append(it.B, Block{K: "result", I: id, X: contentText(bl.Get("content")), E: bl.GetBool("is_error")})
		case "image":
			desc := "image"
			if src := bl.Get("source"); src != nil {
				if mt := src.GetStringBytes("media_type"); len(mt) > 0 {
					desc += " " + string(mt)
				}
				if d := src.GetStringBytes("data"); len(d) > 0 {
					desc += ", " + size(int64(len(d))*3/4)
				}
			}
			it.B = append(it.B, Block{K: "image", X: desc})
		default:
			t := string(bl.GetStringBytes("type"))
			if t == "" {
				t = "?"
			}
			it.B = append(it.B, Block{K: "other", X: t})
		}
	}
	return len(it.B) > 0 || results == 0
}

// contentText is a tool_result's content as the session writer stores it:
// a string as is, text blocks by their text, other blocks by their type.
func contentText(c *fastjson.Value) string {
	if c == nil {
		return ""
	}
	if c.Type() == fastjson.TypeString {
		return string(c.GetStringBytes())
	}
	if c.Type() != fastjson.TypeArray {
		return string(c.MarshalTo(nil))
	}
	var parts []string
	for _, bl := range c.GetArray() {
		if t := string(bl.GetStringBytes("type")); t == "text" {
			parts = append(parts, string(bl.GetStringBytes("text")))
		} else {
			parts = append(parts, "["+t+"]")
		}
	}
	return strings.Join(parts, "\n")
}

func intOf(v *fastjson.Value, key string) *int64 {
	x := v.Get(key)
	if x == nil || x.Type() != fastjson.TypeNumber {
		return nil
	}
	n := int64(x.GetFloat64())
	return &n
}

func floatOf(v *fastjson.Value, key string) *float64 {
	x := v.Get(key)
	if x == nil || x.Type() != fastjson.TypeNumber {
		return nil
	}
	f := x.GetFloat64()
	return &f
}

// size is a byte count as people read it.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

var (
	repoName = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	runID    = regexp.MustCompile(`^[0-9]+$`)
)

// View is the header of session s. running says whether a convlog tee is
// writing it right now.
func View(s *record.Session, running bool) SessionView {
	v := SessionView{
		ID: s.ID, Model: deref(s.Model), Agent: AgentOf(s), Mode: deref(s.Mode),
		Start: s.StartedAt, End: s.EndedAt, Dur: s.DurationMS,
		Messages: s.TotalMessages, ToolCalls: s.TotalToolCalls, Turns: s.NumTurns,
		CWD: deref(s.CWD), Repo: deref(s.GitHubRepository), RunID: deref(s.GitHubRunID), Ref: deref(s.GitHubRef),
		Branch: deref(s.GitBranch), Source: deref(s.Source), AgentSessionID: deref(s.AgentSessionID),
		Running: running && s.Incomplete(),
	}
	if s.Redactions != nil {
		v.Redactions = *s.Redactions
	}
	if s.LinesDropped != nil {
		v.LinesDropped = *s.LinesDropped
	}
	if repoName.MatchString(v.Repo) && runID.MatchString(v.RunID) && !strings.Contains(v.Repo, "..") {
		v.RunURL = "https://github.com/" + v.Repo + "/actions/runs/" + v.RunID
	}
	v.Outcome, v.Result = Outcome(s, v.Running)
	if s.InputTokens != nil || s.OutputTokens != nil || s.CacheCreationInputTokens != nil || s.CacheReadInputTokens != nil {
		v.Tokens = &Tokens{In: derefInt(s.InputTokens), Out: derefInt(s.OutputTokens),
			CacheW: derefInt(s.CacheCreationInputTokens), CacheR: derefInt(s.CacheReadInputTokens)}
	}
	v.Cost, v.CostKind, v.CostNote = CostOf(s)
	return v
}

// Outcome is how a session ended, as a class (success, error, running,
// incomplete, none) and in words.
func Outcome(s *record.Session, running bool) (class, words string) {
	switch {
	case running:
		return "running", "running"
	case s.ResultType == nil && s.Incomplete():
		return "incomplete", "incomplete (no end recorded)"
	case s.ResultType == nil:
		return "none", "no result line"
	}
	words = deref(s.ResultSubtype)
	if words == "" {
		words = *s.ResultType
	}
	if (s.IsError != nil && *s.IsError) || strings.HasPrefix(words, "error") {
		class = "error"
	} else {
		class = "success"
	}
	if s.Incomplete() {
		words += ", incomplete"
	}
	return class, words
}

// CostOf is what a session cost: reported by the agent, else estimated
// from its tokens at list prices (report/prices.go), else unknown with a
// note why. The estimate is s.EstimatedCostUSD where the source read its
// usage rows (FileSource, DBSource, the list): each model's tokens at that
// model's price, as convlog query and stats have them; else its tokens at
// its model's.
func CostOf(s *record.Session) (cost *float64, kind, note string) {
	if s.TotalCostUSD != nil {
		return s.TotalCostUSD, "reported", ""
	}
	if s.EstimatedCostUSD != nil {
		return s.EstimatedCostUSD, "estimated", "estimated from tokens at " + report.PricesAsOf + " list prices"
	}
	t := report.TokenCounts{Input: derefInt(s.InputTokens), Output: derefInt(s.OutputTokens),
		CacheWrite: derefInt(s.CacheCreationInputTokens), CacheRead: derefInt(s.CacheReadInputTokens)}
	if !t.Any() {
		return nil, "", ""
	}
	p, ok := report.PriceOf(deref(s.Model))
	if !ok {
		return nil, "", "no list price for model " + strconv.Quote(deref(s.Model))
	}
	c := p.Cost(t)
	return &c, "estimated", "estimated from tokens at " + report.PricesAsOf + " list prices"
}

// AgentOf names the agent that wrote a session, with its version where
// the stream gave one: sessions.agent, or for files written before that
// column, Claude Code when the session looks like its stream or transcript.
func AgentOf(s *record.Session) string {
	name := ""
	switch deref(s.Agent) {
	case "claude-code":
		name = "Claude Code"
	case "gemini-cli":
		name = "Gemini CLI"
	case "codex":
		name = "Codex"
	case "cursor":
		name = "Cursor"
	case "opencode":
		name = "opencode"
	case "":
		switch deref(s.SourceFormat) {
		case "stream-json", "transcript", "":
			if s.AgentVersion != nil || s.SourceFormat != nil {
				name = "Claude Code"
			}
		default:
			name = deref(s.SourceFormat)
		}
	default:
		name = deref(s.Agent)
	}
	if s.AgentVersion != nil && *s.AgentVersion != "" {
		if name == "" {
			name = "Claude Code"
		}
		name += " " + *s.AgentVersion
	}
	return name
}
