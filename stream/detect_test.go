package stream

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/agentcorpus"
	"github.com/convlog/convlog/redact"
)

func TestClassifyFirstLines(t *testing.T) {
	for _, c := range []struct {
		line string
		want Agent
	}{
		{initLine, AgentClaude},
		{`{"type":"system","subtype":"init","apiKeySource":"login","cwd":"/w","session_id":"s","model":"Auto","permissionMode":"default"}`, AgentCursor},
		{`{"type":"init","timestamp":"2026-01-01T00:00:00.000Z","session_id":"s","model":"auto"}`, AgentGemini},
		{`{"type":"thread.started","thread_id":"019a"}`, AgentCodex},
		{`{"model":"gpt-5","sandbox":"read-only","approval":"never","workdir":"/w"}`, AgentCodex},
		{`{"id":"0","msg":{"type":"task_started"}}`, AgentCodex},
		{`{"type":"step_start","timestamp":1,"sessionID":"ses_1","part":{"type":"step-start"}}`, AgentOpencode},
		{`{"type":"tool_use","timestamp":1,"sessionID":"ses_1","part":{"callID":"c"}}`, AgentOpencode},
		{`{"type":"tool_use","tool_id":"t","tool_name":"x","parameters":{}}`, AgentGemini},
		{`{"type":"tool_call","subtype":"started","call_id":"c","tool_call":{}}`, AgentCursor},
		{`{"type":"error","message":"boom"}`, AgentCodex},
		{`{"type":"error","severity":"warning","message":"loop"}`, AgentGemini},
		{`{"parentUuid":null,"sessionId":"a","type":"user","message":{"content":"hi"}}`, AgentClaude},
		// Transcript lines that name no session.
		{`{"type":"summary","summary":"s","leafUuid":"x"}`, AgentClaude},
		{`{"type":"file-history-snapshot","messageId":"m","snapshot":{"messageId":"m","trackedFileBackups":{},"timestamp":"2026-01-01T00:00:00.000Z"},"isSnapshotUpdate":false}`, AgentClaude},
		// Lines that several agents share in shape, or nobody's.
		{`{"type":"result","subtype":"success","is_error":false}`, AgentUnknown},
		{`{"event":"x"}`, AgentUnknown},
		{`Loaded cached credentials.`, AgentUnknown},
		{`[1,2]`, AgentUnknown},
	} {
		if got := Classify([]byte(c.line)); got != c.want {
			t.Errorf("Classify(%s) = %q, want %q", c.line, got, c.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, name := range FormatNames {
		a, err := ParseFormat(name)
		if err != nil || a == AgentUnknown || !strings.HasPrefix(a.String(), name) {
			t.Errorf("ParseFormat(%q) = %q, %v", name, a, err)
		}
	}
	if a, err := ParseFormat("auto"); err != nil || a != AgentUnknown {
		t.Errorf("auto: %q %v", a, err)
	}
	if _, err := ParseFormat("aider"); err == nil || !strings.Contains(err.Error(), "claude, gemini, codex, cursor, opencode") {
		t.Errorf("unknown format: %v", err)
	}
}

// Unknown JSON is logged line by line as it always was: messages, and no
// agent, session or tool call made up from it.
func TestUnknownJSONStaysLinesOnly(t *testing.T) {
	r := &recorder{}
	p := NewProcessor(r)
	feed(p, `{"event":"start","id":"a"}`, `{"type":"tool_use","id":"x"}`, `{"type":"progress","pct":50}`, `not json`)
	f := p.Totals()
	if len(r.msgs) != 4 || len(r.uses) != 0 || f.Agent != AgentUnknown || f.SourceFormat != "" || f.IsError != -1 || f.HasTokens {
		t.Fatalf("%d messages, %d uses, facts %+v", len(r.msgs), len(r.uses), f)
	}
	if r.msgs[1].Type != "tool_use" || r.msgs[3].Type != "error" || r.msgs[3].Subtype != "invalid_json" {
		t.Fatalf("types: %+v", r.msgs)
	}
}

// A format given by --format is kept whatever the lines look like.
func TestForcedFormat(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(agentcorpus.FixtureDir(), "mixed", "gemini-then-codex.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		format         Agent
		calls, results int
	}{
		{AgentUnknown, 5, 5}, // followed: Gemini's 3, then Codex's 2
		{AgentGemini, 3, 3},  // Codex's lines are stored, not mapped
		{AgentCodex, 2, 2},
		{AgentClaude, 0, 0},
	} {
		r := &recorder{}
		p := NewProcessor(r)
		p.Format = c.format
		var fr Framer
		fr.Feed(data, func(l []byte) { p.Line(l, 1) })
		f := p.Totals()
		want := c.format
		if want == AgentUnknown {
			want = AgentGemini
		}
		if len(r.uses) != c.calls || len(r.results) != c.results || f.Agent != want || len(r.msgs) != strings.Count(string(data), "\n") {
			t.Errorf("format %q: %d calls %d results, agent %q, %d messages", c.format, len(r.uses), len(r.results), f.Agent, len(r.msgs))
		}
	}
}

// Two runs appended to one file, a Claude Code run then a Gemini run:
// each is mapped as its agent's, and the session is the first agent's.
func TestStreamSwitchesFormat(t *testing.T) {
	r := &recorder{}
	p := NewProcessor(r)
	feed(p, initLine, useTwo, result1,
		`{"type":"init","timestamp":"2026-01-01T00:00:00.000Z","session_id":"g1","model":"gemini-2.5-flash"}`,
		`{"type":"tool_use","timestamp":"2026-01-01T00:00:01.000Z","tool_name":"read_file","tool_id":"r1","parameters":{}}`,
		`{"type":"tool_result","timestamp":"2026-01-01T00:00:01.250Z","tool_id":"r1","status":"success","output":"x"}`,
		initLine, result2)
	f := p.Totals()
	if f.Agent != AgentClaude || f.AgentSessionID != "s1" || f.Model() != "claude-x" {
		t.Fatalf("facts %+v", f)
	}
	if len(r.uses) != 3 || r.uses[2].ID != "g1:r1" || len(r.results) != 3 || r.results[1].DurationMS != 250 || r.results[2].ID != "t2" {
		t.Fatalf("uses %+v results %+v", r.uses, r.results)
	}
}

// Results kept for a call not seen are bounded, and each one counts as
// unmatched until its call comes.
func TestOrphanResultsBounded(t *testing.T) {
	r := &recorder{}
	p := NewProcessor(r)
	p.Line([]byte(`{"type":"init","session_id":"g","model":"m"}`), 1)
	for i := range maxOrphans + 10 {
		p.Line([]byte(`{"type":"tool_result","tool_id":"t`+itoa(i)+`","status":"success","output":"o"}`), 2)
	}
	if f := p.Totals(); f.UnmatchedUses != maxOrphans+10 || len(p.orphans) != maxOrphans {
		t.Fatalf("unmatched %d, kept %d", f.UnmatchedUses, len(p.orphans))
	}
	p.Line([]byte(`{"type":"tool_use","tool_id":"t5","tool_name":"x"}`), 3)
	p.Line([]byte(`{"type":"tool_use","tool_id":"t`+itoa(maxOrphans+5)+`","tool_name":"x"}`), 3)
	if f := p.Totals(); len(r.results) != 1 || r.results[0].ID != "g:t5" || f.UnmatchedUses != maxOrphans+9 || f.ToolUses != 2 {
		t.Fatalf("results %+v, unmatched %d", r.results, f.UnmatchedUses)
	}
}

func itoa(i int) string { return fmtInt(i) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// FuzzClassify: any line, classified or processed after any agent's first
// lines, never panics, and is one message.
func FuzzClassify(f *testing.F) {
	for _, path := range agentcorpus.Files() {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			f.Add([]byte(l))
		}
	}
	prefixes := []string{
		initLine,
		`{"type":"init","session_id":"g","model":"auto"}`,
		`{"type":"thread.started","thread_id":"t"}`,
		`{"model":"gpt-5","sandbox":"read-only","workdir":"/w"}`,
		`{"type":"system","subtype":"init","session_id":"c","apiKeySource":"login"}`,
		`{"type":"step_start","sessionID":"o","part":{}}`,
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		Classify(line)
		for _, pre := range prefixes {
			r := &recorder{}
			p := NewProcessor(r)
			p.Line([]byte(pre), 1)
			p.Line(line, 2)
			p.Line(line, 3)
			p.Totals()
			if len(r.msgs) != 3 || string(r.msgs[2].Raw) != string(line) {
				t.Fatalf("after %s: %d messages", pre, len(r.msgs))
			}
		}
	})
}

// FuzzAgentStream feeds whole streams, live and as imports, to the
// mappers: one message per line, a result only for a call begun before it
// and at most one per call, durations never negative, never a panic.
func FuzzAgentStream(f *testing.F) {
	for _, path := range agentcorpus.Files() {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0))
	}
	// Codex's session files (rollouts), as the import tests have them.
	for _, name := range []string{"codex-rollout.jsonl", "codex-rollout-shell.jsonl"} {
		data, err := os.ReadFile(filepath.Join("..", "cli", "testdata", "import", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0))
	}
	// Gemini CLI's saved chats, as lines (ChatLines).
	chat, err := os.ReadFile(filepath.Join("..", "cli", "testdata", "import", "gemini", "session-2026-02-03T09-15-3f2a9c1e.json"))
	if err != nil {
		f.Fatal(err)
	}
	lines, ok := ChatLines(chat)
	if !ok {
		f.Fatal("the saved chat is not read as one")
	}
	f.Add(lines, uint8(0))
	appended, err := os.ReadFile(filepath.Join("..", "cli", "testdata", "import", "gemini", "session-2026-10-02T10-00-7c1e9a4b.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(appended, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		for _, lineTimes := range []bool{false, true} {
			r := &recorder{}
			p := NewProcessor(r)
			p.LineTimes = lineTimes
			p.Format = Agent(format % uint8(AgentOpencode+1))
			var fr Framer
			n := 0
			line := func(l []byte) { n++; p.Line(l, int64(n)*1000) }
			fr.Feed(data, line)
			fr.Flush(line)
			p.Totals()
			if len(r.msgs) != n {
				t.Fatalf("%d messages for %d lines", len(r.msgs), n)
			}
			begun := map[string]bool{}
			done := map[string]bool{}
			for _, ev := range r.events {
				kind, id, _ := strings.Cut(ev, " ")
				switch {
				case kind == "use" && begun[id]:
					t.Fatalf("call %s begun twice", id)
				case kind == "use":
					begun[id] = true
				case !begun[id] || done[id]:
					t.Fatalf("result for %s: begun %v, done %v", id, begun[id], done[id])
				default:
					done[id] = true
				}
			}
			for _, res := range r.results {
				if res.DurationMS < -1 {
					t.Fatalf("duration %d", res.DurationMS)
				}
			}
		}
	})
}

// Redaction comes before mapping: a secret in another agent's command
// output is replaced in the stored line and in the tool's output alike.
func TestAgentLinesRedacted(t *testing.T) {
	red, err := redact.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	key := "ghp_" + strings.Repeat("a1B2c3D4e5", 4)[:36]
	r := &recorder{}
	p := NewProcessor(r)
	p.Redactor = red
	feed(p, `{"type":"thread.started","thread_id":"t"}`,
		`{"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"bash -lc env","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
		`{"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"bash -lc env","aggregated_output":"GITHUB_TOKEN=`+key+`\n","exit_code":0,"status":"completed"}}`)
	if len(r.results) != 1 || strings.Contains(string(r.results[0].Output), key) || !strings.Contains(string(r.results[0].Output), "[REDACTED:github]") ||
		strings.Contains(string(r.msgs[2].Raw), key) || p.Totals().Redactions != 1 {
		t.Fatalf("output %q, line %q", r.results[0].Output, r.msgs[2].Raw)
	}
}
