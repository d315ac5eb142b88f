package stream

import (
	"bytes"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
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
	// Text is the assistant's text in this line, when it has any and
	// Processor.Texts is set; valid only during the Sink call. TextDelta
	// says it is a chunk that continues the text before it (Gemini CLI
	// streams its answers in chunks).
	Text      []byte
	TextDelta bool
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
	ID      string
	Time    int64
	IsError bool
	Output  []byte // valid only during the Sink call
	// ErrorText, when set on an error, is what the error column holds
	// instead of Output (a failed command's exit code and output, a
	// declined call); valid only during the Sink call.
	ErrorText  []byte
	DurationMS int64 // -1 when either time is not known
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
	// CacheCreation1h is the part of CacheCreation written to the one-hour
	// cache, where the message says (usage.cache_creation).
	CacheCreation1h int64
}

func (u *Usage) add(o Usage) {
	u.Input = addFigure(u.Input, o.Input)
	u.Output = addFigure(u.Output, o.Output)
	u.CacheCreation = addFigure(u.CacheCreation, o.CacheCreation)
	u.CacheRead = addFigure(u.CacheRead, o.CacheRead)
	u.CacheCreation1h = addFigure(u.CacheCreation1h, o.CacheCreation1h)
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
	if v == nil {
		return 0
	}
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
	// Agent is the agent whose stream this is, the first one recognised;
	// AgentUnknown for a stream of unknown JSON (or none).
	Agent Agent
	// SourceFormat is the stream's format when it is another agent's
	// ("gemini-stream-json", "codex-json", …); "" for Claude Code's.
	SourceFormat   string
	InitModel      string // from system/init (Gemini: init; Codex before 0.44: its config line)
	AssistantModel string // from the first assistant message
	// ConcreteModel is the model that did the work where the stream names
	// it apart from an alias in its init (Gemini CLI's "auto": the keys of
	// result.stats.models); it wins over InitModel.
	ConcreteModel  string
	CWD            string
	AgentSessionID string
	AgentVersion   string
	GitBranch      string
	PromptLength   int64 // -1 until a first user text is seen

	ResultType    string
	ResultSubtype string
	IsError       int   // -1 no result yet
	NumTurns      int64 // summed over result lines; may be Unknown
	TurnsKnown    bool  // a result line gave num_turns
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

	// Usage by model (Processor.ByModel) and where it comes from
	// (Processor.UsageKind), as of UsageGen, which changes with them.
	ByModel   []ModelUsage
	UsageKind string
	UsageGen  int64

	cwdFromInit bool
}

// Model is the session's model: the concrete one where the stream names
// it, else the init line's, else the first assistant's.
func (f *Facts) Model() string {
	if f.ConcreteModel != "" {
		return f.ConcreteModel
	}
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
	// PersistedOutput, when set (imports), reads the whole output of a
	// tool result that Claude Code kept in a file of its own (since 2.1.2,
	// outputs over 100K characters, 50K since 2.1.51): the transcript then
	// holds "<persisted-output>", the file's path and a 2 KB preview. ok
	// false keeps the preview. The output read is redacted as lines are.
	PersistedOutput func(preview []byte) (output []byte, ok bool)
	// OwnSession, when set (an import of Claude Code's transcript of a
	// resumed session, record.resumedAs), is the session the file was
	// written for: lines of other sessions (the earlier session's, which
	// the transcript repeats) are stored, but their tokens are not
	// counted, being the earlier session's, and counted there.
	OwnSession string
	// Format, when set before the first line, is the agent whose stream
	// this is (--format); left unknown, each line that tells is looked at,
	// and a stream that turns into another agent's is followed.
	Format Agent
	// Texts, when set, gives each Message the assistant's text in its
	// line (Message.Text), for a live view of the session; streams that no
	// one watches pay nothing for it.
	Texts bool

	Facts Facts

	parser fastjson.Parser
	// argParser reads JSON held in a string of the line (Codex's
	// arguments), while the line's values are in use.
	argParser fastjson.Parser
	seq       int64
	agent     Agent               // whose lines are being read now
	uses      map[string]useState // by tool call id

	// Results whose call has not been seen (yet): kept, within limits, to
	// complete the call should it come after them.
	orphans     map[string]*orphan
	orphanBytes int
	unmatched   int64

	msgUsage    map[string]reqUsage // per API message id: counted once
	resultUsage Usage               // summed over result lines
	sawResult   bool                // a result line carried usage
	costs       map[string]float64  // last total_cost_usd per agent session
	costOrder   []string
	claudeCost  float64
	// The last modelUsage per agent session, in order of first sight.
	resultModels    map[string]modelTotals
	costOrderModels []string
	msgAgg          map[aggKey]*ModelUsage // msgUsage by model and tier
	// Other agents' tokens by model, added up over their runs (Gemini
	// CLI's stats.models), in order of first sight.
	agentModels map[string]*ModelUsage
	// otherSession: the line being processed is another session's (see
	// OwnSession).
	otherSession bool
	// subagentTasks: the Task call that started each sub-agent, by agentId
	// (see subagentTask).
	subagentTasks   map[string]string
	agentModelOrder []string
	usageGen        int64 // see UsageGen
	factsGen        int64 // usageGen when Facts.ByModel was made

	// Other agents' token figures: added up (per turn or step), or the
	// last of a cumulative counter per run (a Codex thread).
	sumUsage   Usage
	runUsage   map[string]Usage
	runOrder   []string
	agentUsage bool
	sumCost    float64 // opencode: per step
	agentCost  bool

	runID     string         // qualifies the tool ids of the run being read
	runBase   string         // the agent's session id of that run
	runStarts map[string]int // runs seen per agent session id
	runs      int64          // runs (agent processes) seen in the stream
	codex     codexState

	buf, inBuf, errBuf []byte // reused for tool outputs, inputs and errors
	textBuf            []byte // reused for Message.Text
}

type useState struct {
	at   int64 // message time of the call; 0 when not known
	own  int64 // the agent's own time for its start; 0 when not known
	done bool  // its result was seen
}

type orphan struct {
	r   ToolResult
	own int64
}

// Limits on results kept while their call is not known.
const (
	maxOrphans     = 1024
	maxOrphanBytes = 16 << 20
)

// NewProcessor returns a Processor that reports to sink.
func NewProcessor(sink Sink) *Processor {
	return &Processor{
		Sink:     sink,
		Facts:    Facts{PromptLength: -1, IsError: -1},
		uses:     make(map[string]useState),
		msgUsage: make(map[string]reqUsage),
		costs:    make(map[string]float64),
	}
}

// redact is b with the secrets the Redactor finds replaced, counted in
// Facts.Redactions. The redactor reads b in place and copies it only when
// it replaces something; the copy is never written to.
func (p *Processor) redact(b []byte) []byte {
	if p.Redactor == nil || len(b) == 0 {
		return b
	}
	red, n := p.Redactor.String(unsafe.String(&b[0], len(b)))
	if n == 0 {
		return b
	}
	p.Facts.Redactions += int64(n)
	return unsafe.Slice(unsafe.StringData(red), len(red))
}

// input is a tool call's input as stored: v as JSON, in a buffer reused
// from call to call; nil when there is none.
func (p *Processor) input(v *fastjson.Value) []byte {
	if v == nil {
		return nil
	}
	p.inBuf = v.MarshalTo(p.inBuf[:0])
	return p.inBuf
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
	if p.seq == 0 {
		raw = TrimBOM(raw)
	}
	p.Facts.Lines++
	if elems, ok := arrayElements(raw); ok {
		// The messages of a run in one line: each is stored and read as
		// the stream-json line it would have been.
		for _, e := range elems {
			p.line(e, t)
		}
		return
	}
	p.line(raw, t)
}

func (p *Processor) line(raw []byte, t int64) {
	raw = p.redact(raw)
	m := Message{Seq: p.seq, Time: t, Raw: raw, Sidechain: -1}
	p.seq++
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
	p.detect(v, m.Type)
	if p.LineTimes {
		m.Time = lineTime(v)
	}
	var msg *fastjson.Value
	switch p.agent {
	case AgentGemini:
		p.geminiFields(v, &m)
	case AgentCodex:
		p.codexFields(v, &m)
	case AgentOpencode:
		p.opencodeFields(v, &m)
	default: // Claude Code, Cursor (the same shape), or not known yet
		msg = p.claudeFields(v, &m)
	}
	if p.Texts {
		// Before the care for huge lines below, which may store the
		// parser's copy of the line: reading the text may change that copy
		// (unescaping in place), and the check there then stores the line.
		p.text(v, msg, &m)
	}
	if m.Time > 0 {
		if p.Facts.FirstTime == 0 || m.Time < p.Facts.FirstTime {
			p.Facts.FirstTime = m.Time
		}
		if m.Time > p.Facts.LastTime {
			p.Facts.LastTime = m.Time
		}
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

	switch p.agent {
	case AgentGemini:
		p.gemini(v, &m)
	case AgentCodex:
		p.codexLine(v, &m)
	case AgentOpencode:
		p.opencode(v, &m)
	default:
		switch m.Type {
		case "assistant":
			p.assistant(msg, &m)
		case "user":
			p.user(v, msg, &m)
		case "result":
			p.result(v, &m)
		case "tool_call":
			if p.agent == AgentCursor {
				p.cursorToolCall(v, &m)
			}
		}
	}
}

// detect follows the stream's format: the first line that tells which
// agent wrote it decides, and a later line that tells of another agent (two
// runs appended to one file) switches to that agent's mapping. Lines of the
// types that make up a known stream are not looked at again, so a stream
// costs one comparison per line once its format is known.
func (p *Processor) detect(v *fastjson.Value, typ string) {
	if p.Format != AgentUnknown {
		if p.agent == AgentUnknown {
			p.switchTo(p.Format)
		}
		return
	}
	switch p.agent {
	case AgentClaude, AgentCursor:
		if claudeHot(typ) {
			return
		}
	case AgentGemini:
		if typ == "message" || typ == "tool_use" || typ == "tool_result" {
			return
		}
	case AgentCodex:
		if strings.HasPrefix(typ, "item.") || typ == "response_item" || typ == "event_msg" {
			return
		}
	case AgentOpencode:
		if v.Exists("sessionID") {
			return
		}
	}
	a := classify(v, typ)
	if a == AgentUnknown || a == p.agent {
		return
	}
	if p.agent == AgentCursor && a == AgentClaude && typ != "system" {
		// Cursor's user, assistant and result lines look like Claude's.
		return
	}
	p.switchTo(a)
}

func (p *Processor) switchTo(a Agent) {
	p.agent = a
	if p.Facts.Agent == AgentUnknown {
		p.Facts.Agent = a
		if a != AgentClaude {
			p.Facts.SourceFormat = a.SourceFormat()
		}
	}
}

// toolID is the id under which another agent's tool call is stored: its
// own id qualified by the agent's session id of the run, since the others'
// ids repeat across sessions (Codex numbers its items item_0, item_1, … in
// every run) while a tool call's id is unique in the shared database.
func (p *Processor) toolID(raw []byte) string {
	if p.runID == "" {
		return string(raw)
	}
	return p.runID + ":" + string(raw)
}

// setRun notes the agent's session id of the lines being read.
func (p *Processor) setRun(id []byte) {
	if len(id) > 0 && string(id) != p.runBase {
		p.runBase, p.runID = string(id), string(id)
	}
}

// newRun notes the start of a run (an agent process) of the agent session
// id. A session resumed in the same stream numbers its tool calls afresh
// (Codex's item_0, …), so the ids of its second run are qualified by
// "<id>/2", and so on.
func (p *Processor) newRun(id []byte) {
	p.runs++
	if len(id) == 0 {
		return
	}
	if p.runStarts == nil {
		p.runStarts = make(map[string]int)
	}
	n := p.runStarts[string(id)] + 1
	p.runStarts[string(id)] = n
	p.runBase, p.runID = string(id), string(id)
	if n > 1 {
		p.runID += "/" + strconv.Itoa(n)
	}
}

// sessionID records the agent's own session id; the first one seen wins.
func (p *Processor) sessionID(id []byte) {
	if p.Facts.AgentSessionID == "" && len(id) > 0 {
		p.Facts.AgentSessionID = string(id)
	}
}

// begin reports a new tool call, pending until complete is called for its
// id; own is the agent's own time for its start (0 if none). A call whose
// id was seen before is not new: false.
func (p *Processor) begin(u *ToolUse, own int64) bool {
	if _, seen := p.uses[u.ID]; seen {
		p.Facts.DuplicateUses++
		return false
	}
	p.uses[u.ID] = useState{at: u.Time, own: own}
	u.Seq = p.Facts.ToolUses
	p.Facts.ToolUses++
	p.Sink.ToolUse(u)
	if len(p.orphans) > 0 {
		if o := p.orphans[u.ID]; o != nil {
			// Its result came first: the call is complete at once.
			delete(p.orphans, u.ID)
			p.orphanBytes -= len(o.r.Output) + len(o.r.ErrorText)
			p.complete(&o.r, o.own)
		}
	}
	return true
}

// known says whether a call with this id was begun.
func (p *Processor) known(id string) bool {
	_, ok := p.uses[id]
	return ok
}

// unstarted forgets when the call id began: it was first seen finished,
// so its duration is not known.
func (p *Processor) unstarted(id string) {
	st := p.uses[id]
	st.at = 0
	p.uses[id] = st
}

// pending says whether the call id was begun and has no result yet.
func (p *Processor) pending(id string) bool {
	st, ok := p.uses[id]
	return ok && !st.done
}

// complete reports the result of the call r.ID. The duration is the
// difference of the agent's own times where both are known, else of the
// message times; unknown (-1) otherwise, or when it would be negative. A
// result for a call not seen yet is kept for it; a second result for a
// call is not reported.
func (p *Processor) complete(r *ToolResult, own int64) {
	st, ok := p.uses[r.ID]
	if !ok {
		p.keepOrphan(r, own)
		return
	}
	if st.done {
		p.unmatched++
		return
	}
	st.done = true
	p.uses[r.ID] = st
	r.DurationMS = -1
	switch {
	case st.own > 0 && own > 0:
		r.DurationMS = own - st.own
	case st.at > 0 && r.Time > 0:
		r.DurationMS = r.Time - st.at
	}
	if r.DurationMS < 0 {
		r.DurationMS = -1
	}
	p.Sink.ToolResult(r)
}

func (p *Processor) keepOrphan(r *ToolResult, own int64) {
	size := len(r.Output) + len(r.ErrorText)
	if p.orphans[r.ID] != nil || len(p.orphans) >= maxOrphans || p.orphanBytes+size > maxOrphanBytes {
		p.unmatched++
		return
	}
	if p.orphans == nil {
		p.orphans = make(map[string]*orphan)
	}
	o := &orphan{r: *r, own: own}
	o.r.Output = bytes.Clone(r.Output)
	if o.r.Output == nil {
		o.r.Output = []byte{}
	}
	if r.ErrorText != nil {
		o.r.ErrorText = bytes.Clone(r.ErrorText)
	}
	p.orphans[r.ID] = o
	p.orphanBytes += size
}

// claudeFields takes what Claude Code's (and Cursor's) lines say of the
// message and the session, and returns the line's message object.
func (p *Processor) claudeFields(v *fastjson.Value, m *Message) *fastjson.Value {
	m.ParentToolUseID = str(v, "parent_tool_use_id")
	if sc := v.Get("isSidechain"); sc != nil {
		if sc.Type() == fastjson.TypeTrue {
			m.Sidechain = 1
		} else {
			m.Sidechain = 0
		}
	}
	p.subagentTask(v, m)
	p.otherSession = p.repeated(v)
	p.sessionFields(v, m)
	msg := v.Get("message")
	if msg != nil && msg.Type() == fastjson.TypeObject {
		m.APIMessageID = str(msg, "id")
		return msg
	}
	return nil
}

// repeated says whether line v is another session's, repeated in the
// transcript of OwnSession.
func (p *Processor) repeated(v *fastjson.Value) bool {
	if p.OwnSession == "" {
		return false
	}
	id := str(v, "sessionId")
	return id != "" && id != p.OwnSession
}

// subagentTask ties the lines of a Claude Code sub-agent's transcript,
// imported after its session's (record.ImportOptions.Subagents), to the
// Task call that started it, as parent_tool_use_id does in stream-json:
// the session's tool_result line names the sub-agent
// (toolUseResult.agentId), and each of the sub-agent's lines carries that
// agentId.
func (p *Processor) subagentTask(v *fastjson.Value, m *Message) {
	if r := v.Get("toolUseResult"); r != nil && r.Type() == fastjson.TypeObject {
		if a := str(r, "agentId"); a != "" {
			for _, b := range v.GetArray("message", "content") {
				if str(b, "type") == "tool_result" {
					if p.subagentTasks == nil {
						p.subagentTasks = map[string]string{}
					}
					p.subagentTasks[a] = str(b, "tool_use_id")
					break
				}
			}
		}
	}
	if m.ParentToolUseID == "" && m.Sidechain == 1 && p.subagentTasks != nil {
		m.ParentToolUseID = p.subagentTasks[str(v, "agentId")]
	}
}

// parsed is the parser's working copy of the line it parsed last, which
// fastjson keeps in the first field of its Parser and changes in place
// only where it unescapes a string that is read. There is no accessor for
// it; TestParsedIsTheParsersCopy fails if fastjson's layout changes.
func (p *Processor) parsed() []byte {
	return *(*[]byte)(unsafe.Pointer(&p.parser))
}

// sessionFields takes the session-wide fields that stream-json puts on
// system/init and transcripts put on every line. The first value seen wins.
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
		if p.agent == AgentCursor {
			p.newRun(v.GetStringBytes("session_id"))
		}
	}
	if p.agent == AgentCursor {
		p.setRun(v.GetStringBytes("session_id"))
	}
	if f.AgentSessionID == "" {
		if f.AgentSessionID = p.OwnSession; f.AgentSessionID == "" {
			f.AgentSessionID = str(v, "session_id")
		}
		if f.AgentSessionID == "" {
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
	if u := msg.Get("usage"); u != nil && m.APIMessageID != "" && !p.otherSession {
		// One API response is split over several lines that repeat its usage:
		// the last line's figures stand for the whole message.
		p.noteMessage(m.APIMessageID, reqUsage{model: str(msg, "model"), u: usageOf(u)})
	}
	for _, b := range msg.GetArray("content") {
		if str(b, "type") != "tool_use" {
			continue
		}
		id := str(b, "id")
		if id == "" {
			continue
		}
		if p.known(id) {
			p.Facts.DuplicateUses++
			continue
		}
		input := p.input(b.Get("input"))
		u := ToolUse{
			ID: id, Name: str(b, "name"), Input: input,
			Time: m.Time, MessageSeq: m.Seq,
			ParentToolUseID: m.ParentToolUseID,
		}
		p.begin(&u, 0)
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
	r := ToolResult{ID: str(b, "tool_use_id"), Time: m.Time, IsError: b.GetBool("is_error"), MessageSeq: m.Seq}
	r.Output = p.contentText(b.Get("content"))
	if p.PersistedOutput != nil && bytes.HasPrefix(r.Output, persistedTag) {
		if full, ok := p.PersistedOutput(r.Output); ok {
			r.Output = p.redact(full)
		}
	}
	p.complete(&r, 0)
}

// persistedTag begins the content of a tool result whose output Claude
// Code kept in a file (see Processor.PersistedOutput).
var persistedTag = []byte("<persisted-output>")

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
	if n := v.Get("num_turns"); n != nil && n.Type() == fastjson.TypeNumber {
		f.NumTurns = addFigure(f.NumTurns, figure(v, "num_turns"))
		f.TurnsKnown = true
	}
	if u := v.Get("usage"); u != nil && u.Type() == fastjson.TypeObject {
		if p.agent == AgentCursor {
			// Cursor's usage is camelCase; one result per run.
			p.addUsage(Usage{
				Input: u.GetInt64("inputTokens"), Output: u.GetInt64("outputTokens"),
				CacheCreation: u.GetInt64("cacheWriteTokens"), CacheRead: u.GetInt64("cacheReadTokens"),
			})
		} else {
			// A result's usage covers its own turn; a multi-turn stream has
			// one result per turn, so they add up.
			p.resultUsage.add(usageOf(u))
			p.sawResult = true
			p.usageGen++
		}
	}
	if mu := resultModels(v); mu != nil {
		sid := str(v, "session_id")
		if p.resultModels == nil {
			p.resultModels = map[string]modelTotals{}
		}
		if _, ok := p.resultModels[sid]; !ok {
			p.costOrderModels = append(p.costOrderModels, sid)
		}
		p.resultModels[sid] = mu
		p.usageGen++
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
		p.usageGen++
		f.HasCost = true
		p.claudeCost = 0
		for _, k := range p.costOrder {
			p.claudeCost += p.costs[k]
		}
	}
}

// addUsage adds figures that count once each (a turn's, a step's).
func (p *Processor) addUsage(u Usage) {
	p.sumUsage.add(u)
	p.agentUsage = true
	p.usageGen++
}

// setRunUsage keeps the figures of a counter that is cumulative within a
// run: the last one per run counts.
func (p *Processor) setRunUsage(run string, u Usage) {
	if p.runUsage == nil {
		p.runUsage = make(map[string]Usage)
	}
	if _, ok := p.runUsage[run]; !ok {
		p.runOrder = append(p.runOrder, run)
	}
	p.runUsage[run] = u
	p.agentUsage = true
	p.usageGen++
}

// addCost adds a cost the agent reported for part of the session.
func (p *Processor) addCost(usd float64) {
	p.sumCost += usd
	p.agentCost = true
	p.Facts.HasCost = true
	p.usageGen++
}

// addModelUsage adds one run's tokens of one model, for an agent that
// gives its figures by model (Gemini CLI's stats.models).
func (p *Processor) addModelUsage(model string, u Usage) {
	if p.agentModels == nil {
		p.agentModels = map[string]*ModelUsage{}
	}
	m := p.agentModels[model]
	if m == nil {
		m = &ModelUsage{Model: model, Tier: TierStandard}
		p.agentModels[model] = m
		p.agentModelOrder = append(p.agentModelOrder, model)
	}
	m.Usage.add(u)
	p.usageGen++
}

// Totals brings the token, cost and result figures in Facts up to date:
// Claude Code's result lines win over its messages' usage; other agents'
// figures are added to them (a stream of one agent has only its own).
func (p *Processor) Totals() *Facts {
	f := &p.Facts
	var u Usage
	has := false
	switch {
	case p.sawResult:
		u, has = p.resultUsage, true
	case len(p.msgUsage) > 0:
		for _, mu := range p.msgUsage {
			u.add(mu.u)
		}
		has = true
	}
	if p.agentUsage {
		u.add(p.sumUsage)
		for _, k := range p.runOrder {
			u.add(p.runUsage[k])
		}
		has = true
	}
	if has {
		f.Tokens, f.HasTokens = u, true
	}
	if f.HasCost {
		f.CostUSD = p.claudeCost + p.sumCost
	}
	f.UnmatchedUses = p.unmatched + int64(len(p.orphans))
	if p.usageGen != p.factsGen {
		f.ByModel, f.UsageKind, f.UsageGen = p.ByModel(), p.UsageKind(), p.usageGen
		p.factsGen = p.usageGen
	}
	return f
}

func usageOf(u *fastjson.Value) Usage {
	return Usage{
		Input:         figure(u, "input_tokens"),
		Output:        figure(u, "output_tokens"),
		CacheCreation: figure(u, "cache_creation_input_tokens"),
		CacheRead:     figure(u, "cache_read_input_tokens"),
		// Only an object: anything else has no such figure.
		CacheCreation1h: figure(u.Get("cache_creation"), "ephemeral_1h_input_tokens"),
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
