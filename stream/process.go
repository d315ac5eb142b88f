package stream

import (
	"bytes"
	"math"
	"runtime/debug"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/convlog/convlog/redact"
)

// Message is one input line, as stored in the messages table.
type Message struct {
	Seq     int64
	Time    int64 // Unix ms; 0 when not known
	Type    string
	Subtype string
	Raw     []byte // the line without its '\n'; valid only during the Sink call
	// UTF8 says whether Raw is valid UTF-8 (stored as TEXT, else as a BLOB).
	UTF8            bool
	ParentToolUseID string
	APIMessageID    string
	Sidechain       int // -1 unknown, 0, 1
}

// ToolUse is a tool_use block: a new tool call, pending until its result.
type ToolUse struct {
	ID              string
	Name            string
	Input           []byte // JSON; valid only during the Sink call
	Seq             int64
	Time            int64
	MessageSeq      int64
	ParentToolUseID string
}

// ToolResult completes the tool call with the same ID.
type ToolResult struct {
	ID         string
	Time       int64
	IsError    bool
	Output     []byte // valid only during the Sink call
	DurationMS int64  // -1 when either time is not known
	MessageSeq int64
}

// Sink receives what the Processor finds, in input order.
type Sink interface {
	Message(*Message)
	ToolUse(*ToolUse)
	ToolResult(*ToolResult)
}

// Usage is a token count as the API reports it. A figure may be Unknown.
type Usage struct {
	Input, Output, CacheCreation, CacheRead int64
}

func (u *Usage) add(o Usage) {
	u.Input = addFigure(u.Input, o.Input)
	u.Output = addFigure(u.Output, o.Output)
	u.CacheCreation = addFigure(u.CacheCreation, o.CacheCreation)
	u.CacheRead = addFigure(u.CacheRead, o.CacheRead)
}

// Unknown stands for a count that the stream gives but that does not fit
// an int64 (a token count of 1e19, a fraction, a sum past the largest
// int64). It is stored as NULL, and whatever it is added to is Unknown.
const Unknown = math.MinInt64

// addFigure adds counts, either of which may be Unknown.
func addFigure(a, b int64) int64 {
	if a == Unknown || b == Unknown {
		return Unknown
	}
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return Unknown
	}
	return s
}

// figure is the count under key in v: 0 when there is none or it is not a
// number, Unknown when it is a number that does not fit an int64.
func figure(v *fastjson.Value, key string) int64 {
	n := v.Get(key)
	if n == nil || n.Type() != fastjson.TypeNumber {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	// 2.0, 1e3: whole numbers written otherwise.
	if f, err := n.Float64(); err == nil && f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int64(f)
	}
	return Unknown
}

// Facts is what the stream says about the session as a whole.
type Facts struct {
	InitModel      string // from system/init
	AssistantModel string // from the first assistant message
	CWD            string
	AgentSessionID string
	AgentVersion   string
	GitBranch      string
	PromptLength   int64 // -1 until a first user text is seen

	ResultType    string
	ResultSubtype string
	IsError       int   // -1 no result yet
	NumTurns      int64 // summed over result lines; may be Unknown
	HasCost       bool
	CostUSD       float64 // may be infinite (1e400 in the stream)
	HasTokens     bool
	Tokens        Usage

	FirstTime, LastTime int64 // of lines with a known time

	Lines          int64 // lines processed
	ToolUses       int64
	UnmatchedUses  int64 // results whose tool_use was never seen
	DuplicateUses  int64 // tool_use ids seen more than once
	DroppedByInput int64 // lines lost before parsing (the logger fell behind)
	Redactions     int64 // secrets replaced in the stored copy

	cwdFromInit bool
}

// Model is the session's model: the init line's, else the first assistant's.
func (f *Facts) Model() string {
	if f.InitModel != "" {
		return f.InitModel
	}
	return f.AssistantModel
}

// Processor parses lines, keeps the session's facts and pairs tool calls.
// It is not safe for concurrent use.
type Processor struct {
	Sink Sink
	// LineTimes makes the line's own "timestamp" the message time (imports).
	// Without it, the time passed to Line is used.
	LineTimes bool
	// Redactor, when set, replaces secrets in each line before anything is
	// taken from it, so that the stored line and everything derived from it
	// (tool inputs, outputs, errors) hold the redacted text.
	Redactor *redact.Redactor

	Facts Facts

	parser fastjson.Parser
	seq    int64
	uses   map[string]int64 // tool_use id → use time (-1: result seen)

	msgUsage    map[string]Usage   // per API message id: counted once
	resultUsage Usage              // summed over result lines
	sawResult   bool               // a result line carried usage
	costs       map[string]float64 // last total_cost_usd per agent session
	costOrder   []string
	buf, inBuf  []byte // reused for tool outputs and inputs
}

// NewProcessor returns a Processor that reports to sink.
func NewProcessor(sink Sink) *Processor {
	return &Processor{
		Sink:     sink,
		Facts:    Facts{PromptLength: -1, IsError: -1},
		uses:     make(map[string]int64),
		msgUsage: make(map[string]Usage),
		costs:    make(map[string]float64),
	}
}

// Seq is the sequence number the next line will get.
func (p *Processor) Seq() int64 { return p.seq }

// Skip accounts for n lines that were lost before reaching the Processor.
func (p *Processor) Skip(n int64) { p.Facts.DroppedByInput += n }

// hugeLine is the length from which a line is handled with care for memory,
// here and in the Framer, which keeps no carry buffer larger than it.
const hugeLine = 4 << 20

// Line processes one line (without its '\n') read at time t (Unix ms, 0 if
// unknown).
func (p *Processor) Line(raw []byte, t int64) {
	if p.Redactor != nil && len(raw) > 0 {
		// The redactor reads the line in place and copies it only when it
		// replaces something; the copy is never written to.
		red, n := p.Redactor.String(unsafe.String(&raw[0], len(raw)))
		if n > 0 {
			raw = unsafe.Slice(unsafe.StringData(red), len(red))
			p.Facts.Redactions += int64(n)
		}
	}
	m := Message{Seq: p.seq, Time: t, Raw: raw, Sidechain: -1}
	p.seq++
	p.Facts.Lines++
	m.UTF8 = utf8.Valid(raw)

	huge := len(raw) > hugeLine
	if huge {
		// The parser keeps a copy of the longest line it has seen; after a
		// huge one, start afresh so that the copy can be collected.
		defer func() { p.parser = fastjson.Parser{} }()
		if len(raw) >= hugeLine*4 {
			// Assembling the line left the buffers it outgrew, as big
			// again as the line: hand them back before the parser copies
			// it. A full collection costs about 17 ms, which only lines
			// this long repay: one 16 MiB line peaked at 95-102 MiB with
			// it and 110-118 MiB without, while 60 lines of 5 MB took
			// 10-20% longer with it and no less memory.
			debug.FreeOSMemory()
		}
	}
	v, err := p.parser.ParseBytes(raw)
	if err != nil || v.Type() != fastjson.TypeObject {
		if huge {
			// Stored from the line itself: the parser's copy goes first,
			// or the line, the copy and SQLite's row are held at once.
			p.parser = fastjson.Parser{}
			debug.FreeOSMemory()
		}
		m.Type, m.Subtype = "error", "invalid_json"
		if p.LineTimes {
			m.Time = 0
		}
		p.Sink.Message(&m)
		return
	}
	m.Type = str(v, "type")
	m.Subtype = str(v, "subtype")
	m.ParentToolUseID = str(v, "parent_tool_use_id")
	if p.LineTimes {
		m.Time = parseTime(v.GetStringBytes("timestamp"))
	}
	if sc := v.Get("isSidechain"); sc != nil {
		if sc.Type() == fastjson.TypeTrue {
			m.Sidechain = 1
		} else {
			m.Sidechain = 0
		}
	}
	if m.Time > 0 {
		if p.Facts.FirstTime == 0 || m.Time < p.Facts.FirstTime {
			p.Facts.FirstTime = m.Time
		}
		if m.Time > p.Facts.LastTime {
			p.Facts.LastTime = m.Time
		}
	}
	p.sessionFields(v, &m)

	msg := v.Get("message")
	if msg != nil && msg.Type() == fastjson.TypeObject {
		m.APIMessageID = str(msg, "id")
	}
	if huge {
		// Storing a line makes SQLite build its row in memory, a copy as
		// big, and so does storing the tool's output: with the line, the
		// parser's copy and the row at once, a 64 MiB line took 252 MiB.
		// The parser's copy is the line byte for byte unless reading a
		// field unescaped a string in it; when it is, it is stored instead
		// and the collector gets the line back first.
		if c := p.parsed(); bytes.Equal(c, raw) {
			m.Raw, raw = c, nil
			debug.FreeOSMemory()
		}
	}
	p.Sink.Message(&m)
	if huge && raw != nil {
		// Stored from the line itself: what follows needs only the
		// parser's copy, so let the line go before the tool's output (as
		// big) is written.
		m.Raw, raw = nil, nil
		debug.FreeOSMemory()
	}

	switch m.Type {
	case "assistant":
		p.assistant(msg, &m)
	case "user":
		p.user(v, msg, &m)
	case "result":
		p.result(v, &m)
	}
}

// sessionFields takes the session-wide fields that stream-json puts on
// system/init and transcripts put on every line. The first value seen wins.
// parsed is the parser's working copy of the line it parsed last, which
// fastjson keeps in the first field of its Parser and changes in place
// only where it unescapes a string that is read. There is no accessor for
// it; TestParsedIsTheParsersCopy fails if fastjson's layout changes.
func (p *Processor) parsed() []byte {
	return *(*[]byte)(unsafe.Pointer(&p.parser))
}

func (p *Processor) sessionFields(v *fastjson.Value, m *Message) {
	f := &p.Facts
	if m.Type == "system" && m.Subtype == "init" {
		if f.InitModel == "" {
			f.InitModel = str(v, "model")
		}
		if f.AgentVersion == "" {
			f.AgentVersion = str(v, "claude_code_version")
		}
		if cwd := str(v, "cwd"); cwd != "" && !f.cwdFromInit {
			f.CWD, f.cwdFromInit = cwd, true
		}
	}
	if f.AgentSessionID == "" {
		if f.AgentSessionID = str(v, "session_id"); f.AgentSessionID == "" {
			f.AgentSessionID = str(v, "sessionId")
		}
	}
	if f.CWD == "" {
		f.CWD = str(v, "cwd")
	}
	if f.AgentVersion == "" {
		f.AgentVersion = str(v, "version")
	}
	if f.GitBranch == "" {
		f.GitBranch = str(v, "gitBranch")
	}
}

func (p *Processor) assistant(msg *fastjson.Value, m *Message) {
	if msg == nil || msg.Type() != fastjson.TypeObject {
		return
	}
	if p.Facts.AssistantModel == "" {
		if model := str(msg, "model"); model != "" && model != "<synthetic>" {
			p.Facts.AssistantModel = model
		}
	}
	if u := msg.Get("usage"); u != nil && m.APIMessageID != "" {
		// One API response is split over several lines that repeat its usage:
		// the last line's figures stand for the whole message.
		p.msgUsage[m.APIMessageID] = usageOf(u)
	}
	for _, b := range msg.GetArray("content") {
		if str(b, "type") != "tool_use" {
			continue
		}
		id := str(b, "id")
		if id == "" {
			continue
		}
		if _, seen := p.uses[id]; seen {
			p.Facts.DuplicateUses++
			continue
		}
		p.uses[id] = m.Time
		var input []byte
		if in := b.Get("input"); in != nil {
			p.inBuf = in.MarshalTo(p.inBuf[:0])
			input = p.inBuf
		}
		u := ToolUse{
			ID: id, Name: str(b, "name"), Input: input,
			Seq: p.Facts.ToolUses, Time: m.Time, MessageSeq: m.Seq,
			ParentToolUseID: m.ParentToolUseID,
		}
		p.Facts.ToolUses++
		p.Sink.ToolUse(&u)
	}
}

func (p *Processor) user(v, msg *fastjson.Value, m *Message) {
	if msg == nil || msg.Type() != fastjson.TypeObject {
		return
	}
	content := msg.Get("content")
	if content == nil {
		return
	}
	// A sub-agent's prompt is not the session's.
	prompt := m.ParentToolUseID == "" && m.Sidechain != 1
	if content.Type() == fastjson.TypeString {
		if prompt {
			p.promptText(content.GetStringBytes())
		}
		return
	}
	for _, b := range content.GetArray() {
		switch str(b, "type") {
		case "text":
			if prompt {
				p.promptText(b.GetStringBytes("text"))
			}
		case "tool_result":
			p.toolResult(b, m)
		}
	}
}

func (p *Processor) promptText(s []byte) {
	if p.Facts.PromptLength < 0 {
		p.Facts.PromptLength = int64(utf8.RuneCount(s))
	}
}

func (p *Processor) toolResult(b *fastjson.Value, m *Message) {
	id := str(b, "tool_use_id")
	useTime, known := p.uses[id]
	if !known || useTime < 0 {
		// A result for a call never seen (or already completed): the line is
		// stored as a message, but there is no call to complete.
		p.Facts.UnmatchedUses++
		return
	}
	p.uses[id] = -1
	r := ToolResult{ID: id, Time: m.Time, IsError: b.GetBool("is_error"), MessageSeq: m.Seq, DurationMS: -1}
	if useTime > 0 && m.Time > 0 {
		r.DurationMS = m.Time - useTime
	}
	r.Output = p.contentText(b.Get("content"))
	p.Sink.ToolResult(&r)
}

// contentText renders tool_result content: a string as is, text blocks
// joined by newlines, any other block as its JSON. The result is valid until
// the next call.
func (p *Processor) contentText(c *fastjson.Value) []byte {
	if c == nil {
		return []byte{}
	}
	switch c.Type() {
	case fastjson.TypeString:
		return c.GetStringBytes()
	case fastjson.TypeArray:
		p.buf = p.buf[:0]
		for i, b := range c.GetArray() {
			if i > 0 {
				p.buf = append(p.buf, '\n')
			}
			if str(b, "type") == "text" {
				p.buf = append(p.buf, b.GetStringBytes("text")...)
			} else {
				p.buf = b.MarshalTo(p.buf)
			}
		}
		return p.buf
	case fastjson.TypeNull:
		return []byte{}
	default:
		p.buf = c.MarshalTo(p.buf[:0])
		return p.buf
	}
}

func (p *Processor) result(v *fastjson.Value, m *Message) {
	f := &p.Facts
	f.ResultType, f.ResultSubtype = m.Type, m.Subtype
	if v.GetBool("is_error") {
		f.IsError = 1
	} else {
		f.IsError = 0
	}
	f.NumTurns = addFigure(f.NumTurns, figure(v, "num_turns"))
	if u := v.Get("usage"); u != nil && u.Type() == fastjson.TypeObject {
		// A result's usage covers its own turn; a multi-turn stream has one
		// result per turn, so they add up.
		p.resultUsage.add(usageOf(u))
		p.sawResult = true
	}
	cost := v.Get("total_cost_usd")
	if cost == nil {
		cost = v.Get("cost_usd")
	}
	if cost != nil && cost.Type() == fastjson.TypeNumber {
		// total_cost_usd is cumulative within one agent process: keep the
		// last per agent session, and add the sessions up.
		sid := str(v, "session_id")
		if _, ok := p.costs[sid]; !ok {
			p.costOrder = append(p.costOrder, sid)
		}
		p.costs[sid] = cost.GetFloat64()
		f.HasCost = true
		f.CostUSD = 0
		for _, k := range p.costOrder {
			f.CostUSD += p.costs[k]
		}
	}
}

// Totals brings the token figures in Facts up to date: result lines win;
// without them, usage counted once per API message.
func (p *Processor) Totals() *Facts {
	f := &p.Facts
	switch {
	case p.sawResult:
		f.Tokens, f.HasTokens = p.resultUsage, true
	case len(p.msgUsage) > 0:
		var u Usage
		for _, mu := range p.msgUsage {
			u.add(mu)
		}
		f.Tokens, f.HasTokens = u, true
	}
	return f
}

func usageOf(u *fastjson.Value) Usage {
	return Usage{
		Input:         figure(u, "input_tokens"),
		Output:        figure(u, "output_tokens"),
		CacheCreation: figure(u, "cache_creation_input_tokens"),
		CacheRead:     figure(u, "cache_read_input_tokens"),
	}
}

func str(v *fastjson.Value, key string) string {
	b := v.GetStringBytes(key)
	if b == nil {
		return ""
	}
	return string(b)
}

// parseTime reads an ISO 8601 timestamp into Unix ms; 0 when absent or bad.
func parseTime(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}
