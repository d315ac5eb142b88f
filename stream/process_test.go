package stream

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a Sink that keeps copies of what it is told.
type recorder struct {
	msgs    []Message
	uses    []ToolUse
	results []ToolResult
	events  []string // "use <id>", "result <id>", in the order told
}

func (r *recorder) Message(m *Message) {
	c := *m
	c.Raw = append([]byte(nil), m.Raw...)
	r.msgs = append(r.msgs, c)
}
func (r *recorder) ToolUse(u *ToolUse) {
	c := *u
	c.Input = append([]byte(nil), u.Input...)
	r.uses = append(r.uses, c)
	r.events = append(r.events, "use "+u.ID)
}

func (r *recorder) ToolResult(t *ToolResult) {
	c := *t
	c.Output = append([]byte(nil), t.Output...)
	r.results = append(r.results, c)
	r.events = append(r.events, "result "+t.ID)
}

func feed(p *Processor, lines ...string) {
	for i, l := range lines {
		p.Line([]byte(l), int64(1000*(i+1)))
	}
}

const (
	initLine = `{"type":"system","subtype":"init","cwd":"/w","session_id":"s1","model":"claude-x","claude_code_version":"2.1.0","tools":["Bash"]}`
	useTwo   = `{"type":"assistant","message":{"id":"msg_1","model":"claude-y","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}},{"type":"tool_use","id":"t2","name":"Read","input":{"file_path":"/a"}}],"usage":{"input_tokens":10,"output_tokens":5}},"parent_tool_use_id":null,"session_id":"s1"}`
	result2  = `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t2","content":[{"type":"text","text":"line1"},{"type":"text","text":"line2"},{"type":"image","source":{"type":"base64","data":"AAA="}}]}]},"session_id":"s1"}`
	result1  = `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"boom","is_error":true}]},"session_id":"s1"}`
)

func TestPairing(t *testing.T) {
	r := &recorder{}
	p := NewProcessor(r)
	feed(p, initLine, useTwo, result2, result1)
	if len(r.uses) != 2 || r.uses[0].ID != "t1" || r.uses[1].ID != "t2" || r.uses[1].Seq != 1 {
		t.Fatalf("uses: %+v", r.uses)
	}
	if string(r.uses[0].Input) != `{"command":"ls"}` || r.uses[0].Name != "Bash" || r.uses[0].MessageSeq != 1 {
		t.Fatalf("use 0: %+v input %s", r.uses[0], r.uses[0].Input)
	}
	if len(r.results) != 2 {
		t.Fatalf("results: %+v", r.results)
	}
	got2, got1 := r.results[0], r.results[1]
	if got2.ID != "t2" || got2.IsError || got2.DurationMS != 1000 ||
		string(got2.Output) != "line1\nline2\n"+`{"type":"image","source":{"type":"base64","data":"AAA="}}` {
		t.Fatalf("result t2: %+v", got2)
	}
	if got1.ID != "t1" || !got1.IsError || string(got1.Output) != "boom" || got1.DurationMS != 2000 || got1.MessageSeq != 3 {
		t.Fatalf("result t1: %+v", got1)
	}
	if f := p.Totals(); f.Model() != "claude-x" || f.CWD != "/w" || f.AgentSessionID != "s1" || f.AgentVersion != "2.1.0" {
		t.Fatalf("facts: %+v", f)
	}
}

func TestPairingOddCases(t *testing.T) {
	r := &recorder{}
	p := NewProcessor(r)
	feed(p,
		// a result before any use: no call to complete
		`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"nope","content":"x"}]}}`,
		useTwo,
		useTwo, // the same ids again: not new calls
		// a sub-agent's call
		`{"type":"assistant","message":{"id":"msg_2","content":[{"type":"tool_use","id":"t3","name":"Grep","input":{}}]},"parent_tool_use_id":"t1"}`,
		result1,
		result1, // a second result for t1: the first one stands
	)
	if len(r.uses) != 3 || r.uses[2].ParentToolUseID != "t1" {
		t.Fatalf("uses: %+v", r.uses)
	}
	if len(r.results) != 1 || r.results[0].ID != "t1" {
		t.Fatalf("results: %+v", r.results)
	}
	f := p.Totals()
	if f.UnmatchedUses != 2 || f.DuplicateUses != 2 || f.ToolUses != 3 {
		t.Fatalf("facts: unmatched %d duplicates %d uses %d", f.UnmatchedUses, f.DuplicateUses, f.ToolUses)
	}
	if r.msgs[3].ParentToolUseID != "t1" {
		t.Fatalf("message parent: %+v", r.msgs[3])
	}
}

func TestLineKinds(t *testing.T) {
	r := &recorder{}
	p := NewProcessor(r)
	lines := []string{
		">>> not json",
		`[1,2]`,
		`"just a string"`,
		``,
		"{\"type\":\"x\"}\r",
		"{\"type\":\"user\",\"message\":{\"content\":\"caf\xe9\"}}",
		`{"subtype":"no type"}`,
		`{"type":"rate_limit_event","rate_limit_info":{}}`,
		`{"type":"system","subtype":"hook_started"}`,
	}
	feed(p, lines...)
	want := []string{"error/invalid_json", "error/invalid_json", "error/invalid_json", "error/invalid_json",
		"x/", "user/", "/no type", "rate_limit_event/", "system/hook_started"}
	for i, m := range r.msgs {
		if got := m.Type + "/" + m.Subtype; got != want[i] {
			t.Errorf("line %d %q: %s, want %s", i, lines[i], got, want[i])
		}
		if string(m.Raw) != lines[i] || m.Seq != int64(i) {
			t.Errorf("line %d: raw %q seq %d", i, m.Raw, m.Seq)
		}
	}
	if r.msgs[5].UTF8 || !r.msgs[4].UTF8 {
		t.Errorf("UTF8 flags: %v %v", r.msgs[4].UTF8, r.msgs[5].UTF8)
	}
}

func TestTotalsFromResults(t *testing.T) {
	// Two turns on one stream: usage is per turn, total_cost_usd cumulative.
	r := &recorder{}
	p := NewProcessor(r)
	res := func(cost float64, in, out int) string {
		return fmt.Sprintf(`{"usage":{"input_tokens":%d,"output_tokens":%d,"cache_read_input_tokens":1,"cache_creation_input_tokens":2},"total_cost_usd":%g,"is_error":false,"num_turns":1,"subtype":"success","session_id":"s1","type":"result"}`, in, out, cost)
	}
	feed(p, initLine, useTwo, res(0.5, 10, 5), initLine, res(0.75, 20, 7))
	f := p.Totals()
	if !f.HasCost || f.CostUSD != 0.75 {
		t.Fatalf("cost %v %v", f.HasCost, f.CostUSD)
	}
	if f.Tokens != (Usage{Input: 30, Output: 12, CacheRead: 2, CacheCreation: 4}) || f.NumTurns != 2 {
		t.Fatalf("tokens %+v turns %d", f.Tokens, f.NumTurns)
	}
	if f.ResultType != "result" || f.ResultSubtype != "success" || f.IsError != 0 {
		t.Fatalf("result %+v", f)
	}
	// An older agent reports cost_usd; a second agent process adds its own.
	p2 := NewProcessor(&recorder{})
	feed(p2, `{"type":"result","subtype":"error_max_turns","is_error":true,"cost_usd":1.5,"session_id":"a"}`,
		`{"type":"result","subtype":"success","total_cost_usd":0.25,"session_id":"b"}`)
	if f := p2.Totals(); f.CostUSD != 1.75 || f.ResultSubtype != "success" || f.IsError != 0 {
		t.Fatalf("two processes: %+v", f)
	}
}

func TestTotalsWithoutResult(t *testing.T) {
	// One API response split over lines repeating its usage counts once.
	r := &recorder{}
	p := NewProcessor(r)
	a := func(id string, out int) string {
		return fmt.Sprintf(`{"type":"assistant","message":{"id":%q,"model":"<synthetic>","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":3,"output_tokens":%d}}}`, id, out)
	}
	feed(p, a("m1", 1), a("m1", 4), a("m2", 10))
	f := p.Totals()
	if f.Tokens.Input != 6 || f.Tokens.Output != 14 || f.HasCost || f.IsError != -1 {
		t.Fatalf("facts %+v", f)
	}
	if f.Model() != "" {
		t.Fatalf("a <synthetic> model is not the session's model: %q", f.Model())
	}
}

func TestPromptLengthAndModelFallback(t *testing.T) {
	p := NewProcessor(&recorder{})
	feed(p,
		`{"type":"user","message":{"role":"user","content":"héllo 👋"}}`,
		`{"type":"user","message":{"role":"user","content":"second"}}`,
		`{"type":"assistant","message":{"id":"m","model":"claude-z","content":[]}}`)
	f := p.Totals()
	if f.PromptLength != 7 || f.Model() != "claude-z" {
		t.Fatalf("prompt %d model %q", f.PromptLength, f.Model())
	}
}

func TestLineTimes(t *testing.T) {
	r := &recorder{}
	p := NewProcessor(r)
	p.LineTimes = true
	p.Line([]byte(`{"type":"assistant","timestamp":"2025-09-03T00:47:21.540Z","message":{"id":"m","content":[{"type":"tool_use","id":"u","name":"Bash","input":{}}]}}`), 99)
	p.Line([]byte(`{"type":"summary","summary":"s"}`), 99)
	p.Line([]byte(`{"type":"user","timestamp":"2025-09-03T00:47:24.686Z","isSidechain":true,"message":{"content":[{"type":"tool_result","tool_use_id":"u","content":"ok"}]}}`), 99)
	if r.msgs[0].Time != 1756860441540 || r.msgs[1].Time != 0 || r.msgs[2].Sidechain != 1 || r.msgs[0].Sidechain != -1 {
		t.Fatalf("times: %+v", r.msgs)
	}
	if r.results[0].DurationMS != 3146 {
		t.Fatalf("duration %d", r.results[0].DurationMS)
	}
	f := p.Totals()
	if f.FirstTime != 1756860441540 || f.LastTime != 1756860444686 {
		t.Fatalf("first/last %d %d", f.FirstTime, f.LastTime)
	}
	// Without times, no duration is invented.
	r2 := &recorder{}
	p2 := NewProcessor(r2)
	p2.LineTimes = true
	p2.Line([]byte(`{"type":"assistant","message":{"content":[{"type":"tool_use","id":"u","name":"Bash"}]}}`), 99)
	p2.Line([]byte(`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"u"}]}}`), 99)
	if r2.results[0].DurationMS != -1 || r2.uses[0].Time != 0 {
		t.Fatalf("no times: %+v %+v", r2.results[0], r2.uses[0])
	}
}

// FuzzProcessor: any line, however broken, gives exactly one message with
// the bytes as read, and never a panic.
func FuzzProcessor(f *testing.F) {
	for _, l := range []string{initLine, useTwo, result1, result2, "", "{", `{"type":"user","message":{"content":[{"type":"tool_result"}]}}`} {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r := &recorder{}
		p := NewProcessor(r)
		p.Line([]byte(useTwo), 1)
		p.Line(line, 2)
		p.Line(line, 3)
		if len(r.msgs) != 3 || string(r.msgs[1].Raw) != string(line) || r.msgs[2].Seq != 2 {
			t.Fatalf("messages: %d", len(r.msgs))
		}
		for _, res := range r.results {
			if !strings.HasPrefix(res.ID, "t") {
				t.Fatalf("result for an id never used: %q", res.ID)
			}
		}
	})
}

// FuzzTranscript feeds whole files, as convlog import does: format
// detection, then every line with its own timestamp. One message per line,
// never a panic, and a result only for a call that was used.
func FuzzTranscript(f *testing.F) {
	f.Add([]byte(`{"type":"summary","summary":"s","leafUuid":"x"}` + "\n" +
		`{"parentUuid":null,"sessionId":"a","type":"assistant","timestamp":"2025-01-01T00:00:00Z","message":{"id":"m","model":"claude","content":[{"type":"tool_use","id":"u","name":"Bash","input":{}}],"usage":{"input_tokens":1}}}` + "\n" +
		`{"parentUuid":"p","sessionId":"a","type":"user","isSidechain":true,"timestamp":"2025-01-01T00:00:01Z","message":{"content":[{"type":"tool_result","tool_use_id":"u","content":"ok"}]},"toolUseResult":{}}`))
	f.Add([]byte("{\"timestamp\":\"not a time\"}\n\n{\"timestamp\":\"2025-13-45T99:00:00Z\",\"type\":\"user\"}"))
	// A session's Task result naming its sub-agent, then the sub-agent's
	// lines, as an import of both files hands them on.
	f.Add([]byte(`{"sessionId":"a","type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":"done"}]},"toolUseResult":{"agentId":"x"}}` + "\n" +
		`{"sessionId":"a","isSidechain":true,"agentId":"x","type":"assistant","message":{"id":"m2","content":[{"type":"tool_use","id":"g","name":"Grep","input":{}}]}}`))
	f.Fuzz(func(t *testing.T, file []byte) {
		var d Detector
		var fr Framer
		fr.Feed(file, d.Line)
		fr.Flush(d.Line)
		_ = d.Format()
		r := &recorder{}
		p := NewProcessor(r)
		p.LineTimes = true
		var n int
		line := func(l []byte) { n++; p.Line(l, 0) }
		fr.Feed(file, line)
		fr.Flush(line)
		if len(r.msgs) != n {
			t.Fatalf("%d messages for %d lines", len(r.msgs), n)
		}
		used := map[string]bool{}
		for _, u := range r.uses {
			used[u.ID] = true
		}
		for _, res := range r.results {
			if !used[res.ID] {
				t.Fatalf("result for %q, never used", res.ID)
			}
		}
		f := p.Totals()
		if f.FirstTime > f.LastTime {
			t.Fatalf("first time %d after last %d", f.FirstTime, f.LastTime)
		}
	})
}

// TestParsedIsTheParsersCopy checks what Processor.parsed relies on: the
// first field of fastjson's Parser is its copy of the line it parsed.
func TestParsedIsTheParsersCopy(t *testing.T) {
	var p Processor
	line := []byte(`{"type":"user","x":"a\"b","n":[1,2]}`)
	if _, err := p.parser.ParseBytes(line); err != nil {
		t.Fatal(err)
	}
	got := p.parsed()
	if string(got) != string(line) || &got[0] == &line[0] {
		t.Fatalf("parsed() = %q, want a copy of %q", got, line)
	}
}

// sameBytesSink checks each line stored against the line fed, and notes
// whether it was given the line itself or another buffer.
type sameBytesSink struct {
	t     *testing.T
	want  []byte
	given [][]byte
}

func (s *sameBytesSink) Message(m *Message) {
	if string(m.Raw) != string(s.want) {
		s.t.Errorf("line %d stored as %d different bytes", m.Seq, len(m.Raw))
	}
	s.given = append(s.given, m.Raw[:1])
}
func (s *sameBytesSink) ToolUse(*ToolUse)       {}
func (s *sameBytesSink) ToolResult(*ToolResult) {}

// A huge line is stored byte for byte, from the parser's copy when reading
// its fields changed nothing in it, and from the line itself when reading
// them unescaped a string in the copy.
func TestHugeLineStoredExactly(t *testing.T) {
	pad := strings.Repeat(`x\"y`, hugeLine/4+1)
	for _, c := range []struct {
		name     string
		line     string
		fromLine bool
	}{
		{"fields without escapes", `{"type":"user","cwd":"/w","session_id":"s1","message":{"role":"user","content":"` + pad + `"}}`, false},
		{"an escape in a field read", `{"type":"user","cwd":"\/w","session_id":"s1","message":{"role":"user","content":"` + pad + `"}}`, true},
		{"leading space", ` {"type":"user","message":{"role":"user","content":"` + pad + `"}}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			line := []byte(c.line)
			s := &sameBytesSink{t: t, want: append([]byte(nil), line...)}
			p := NewProcessor(s)
			p.Line(line, 1000)
			if len(s.given) != 1 {
				t.Fatalf("%d lines stored", len(s.given))
			}
			if fromLine := &s.given[0][0] == &line[0]; fromLine != c.fromLine {
				t.Errorf("stored from the line itself: %v, want %v", fromLine, c.fromLine)
			}
		})
	}
}
