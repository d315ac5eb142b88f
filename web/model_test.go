package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// writeFixture logs a fixture through the session writer, as tee does.
func writeFixture(t *testing.T, dir, id, name string) string {
	t.Helper()
	s := testkit.NewSession(t, dir, id)
	for _, l := range fixtureLines(t, name) {
		s.Line(l)
	}
	return s.Finish()
}

func buildFile(t *testing.T, path string) *Page {
	t.Helper()
	src, err := OpenFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pg, err := Build(context.Background(), src, false)
	if err != nil {
		t.Fatal(err)
	}
	return pg
}

func TestBuild(t *testing.T) {
	pg := buildFile(t, writeFixture(t, t.TempDir(), "s1", "session.jsonl"))
	lines := fixtureLines(t, "session.jsonl")
	if pg.LastSeq != int64(len(lines)-1) || pg.LastCall != 10 {
		t.Errorf("cursors %d, %d; want %d, 10", pg.LastSeq, pg.LastCall, len(lines)-1)
	}

	// Lines that only carry results of known calls are not items: the
	// results are shown with their calls.
	items := map[int64]Item{}
	for _, it := range pg.Items {
		items[it.S] = it
	}
	for i, l := range lines {
		var line struct {
			Message struct {
				Content json.RawMessage `json:"content"`
			} `json:"message"`
		}
		json.Unmarshal([]byte(l), &line)
		var blocks []struct{ Type string }
		json.Unmarshal(line.Message.Content, &blocks)
		onlyResults := len(blocks) > 0
		for _, b := range blocks {
			onlyResults = onlyResults && b.Type == "tool_result"
		}
		if _, ok := items[int64(i)]; ok == onlyResults {
			t.Errorf("line %d (%.60s…): an item is %v", i, l, ok)
		}
	}
	if it := items[2]; it.K != "system" || it.L != "init" || !strings.Contains(it.X, "model claude-sonnet-4-5-20250929") {
		t.Errorf("init: %+v", it)
	}
	if it := items[3]; it.K != "user" || len(it.B) != 1 || it.B[0].K != "text" || !strings.Contains(it.B[0].X, "**public API**") {
		t.Errorf("prompt: %+v", it)
	}
	if it := items[4]; len(it.B) != 1 || it.B[0].K != "thinking" {
		t.Errorf("thinking: %+v", it)
	}
	if it := items[16]; it.K != "user" || it.P != "toolu_01Task" {
		t.Errorf("the sub-agent's prompt: %+v", it)
	}
	last := pg.Items[len(pg.Items)-1]
	if last.K != "result" || last.L != "success" || last.R == nil || last.R.Cost == nil || *last.R.Cost != 0.1872 ||
		*last.R.Turns != 9 || !strings.HasPrefix(last.X, "Fixed.") {
		t.Errorf("result: %+v", last)
	}

	// Every call is named by exactly one tool block, in the item of its
	// tool_use line.
	named := map[string]int64{}
	for _, it := range pg.Items {
		for _, b := range it.B {
			if b.K == "tool" {
				if _, dup := named[b.I]; dup {
					t.Errorf("call %s is shown twice", b.I)
				}
				named[b.I] = it.S
			}
		}
	}
	if len(pg.Calls) != 11 || len(named) != 11 {
		t.Fatalf("%d calls, %d named", len(pg.Calls), len(named))
	}
	status := map[string]string{}
	for _, c := range pg.Calls {
		status[c.ID] = c.St
		if c.M == nil || named[c.ID] != *c.M {
			t.Errorf("call %s: message %v, shown in %d", c.ID, c.M, named[c.ID])
		}
		if c.T0 == nil || c.T1 == nil || c.D == nil || *c.T1-*c.T0 != *c.D {
			t.Errorf("call %s: times %v %v %v", c.ID, c.T0, c.T1, c.D)
		}
		if !json.Valid(c.In) || c.Out == nil {
			t.Errorf("call %s: input %s, output %v", c.ID, c.In, c.Out)
		}
		if sub := strings.HasPrefix(c.ID, "toolu_02"); sub != (c.P == "toolu_01Task") {
			t.Errorf("call %s: parent %q", c.ID, c.P)
		}
	}
	if status["toolu_01Bash"] != "error" || status["toolu_02Read2"] != "error" || status["toolu_01Edit"] != "success" {
		t.Errorf("statuses %v", status)
	}
	if pg.Session.Outcome != "success" || pg.Session.Cost == nil || pg.Session.CostKind != "reported" ||
		pg.Session.RunURL != "https://github.com/o/r/actions/runs/42" || pg.Session.Agent != "Claude Code 2.1.76" {
		t.Errorf("header %+v", pg.Session)
	}
}

// Calls that no tool_use block names (agents whose lines are mapped into
// tool_calls otherwise) are placed in the message of their tool_use, or
// on their own; results of unknown calls are shown where they are.
func TestBuildUnnamedCalls(t *testing.T) {
	dir := t.TempDir()
	s := testkit.NewSession(t, dir, "s2")
	s.Line(testkit.InitLine).Line(testkit.AssistantText(1, "working"))
	s.Line(testkit.ToolResult("toolu_gone", "a result of nothing", true))
	s.Line(testkit.ToolUse("toolu_1", "ls")).Line(testkit.ToolResult("toolu_1", "a b", false))
	path := s.Finish()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO tool_calls (id, session_id, message_id, sequence, timestamp, tool_name, tool_input, status)
		 VALUES ('x_in_text', 's2', 's2-msg-1', 7, 1700000000010, 'Shell', '{"cmd":"make"}', 'success')`,
		`INSERT INTO tool_calls (id, session_id, message_id, sequence, timestamp, tool_name, tool_input, status)
		 VALUES ('x_nowhere', 's2', NULL, 8, 1700000000020, 'Shell', 'not json', 'pending')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	pg := buildFile(t, path)
	where := map[string]int64{}
	for _, it := range pg.Items {
		for _, b := range it.B {
			switch b.K {
			case "tool":
				where[b.I] = it.S
			case "result":
				if b.I != "toolu_gone" || !b.E || b.X != "a result of nothing" {
					t.Errorf("orphan result %+v", b)
				}
				where["result:"+b.I] = it.S
			}
		}
	}
	if where["x_in_text"] != 1 || where["toolu_1"] != 3 || where["result:toolu_gone"] != 2 {
		t.Errorf("placed at %v", where)
	}
	if _, ok := where["x_nowhere"]; !ok {
		t.Errorf("a call without a message is not shown: %v", where)
	}
	for _, c := range pg.Calls {
		if c.ID == "x_nowhere" && string(c.In) != `"not json"` {
			t.Errorf("an input that is not JSON: %s", c.In)
		}
	}
}

// The archive (and the synced database, read the same way) gives the same
// page as the session's own file.
func TestDBSourceMatchesFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sessions")
	path := writeFixture(t, dir, "s3", "session.jsonl")
	writeFixture(t, dir, "other", "xss.jsonl")
	db, err := archive.Open(dir, "", testkit.Schema(t)).Query(context.Background(), func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fromDB, err := Build(context.Background(), NewDBSource(db, "s3"), false)
	if err != nil {
		t.Fatal(err)
	}
	fromFile := buildFile(t, path)
	fromDB.Now, fromFile.Now = 0, 0
	a, _ := json.Marshal(fromFile)
	b, _ := json.Marshal(fromDB)
	if !bytes.Equal(a, b) {
		t.Errorf("from the archive:\n%s\nfrom the file:\n%s", b, a)
	}
	if _, err := Build(context.Background(), NewDBSource(db, "nope"), false); err == nil || !strings.Contains(err.Error(), "no such session") {
		t.Errorf("an unknown session: %v", err)
	}
}

var scriptEnd = regexp.MustCompile(`(?i)</script|<!--|<script`)

// No text of a session can end the data element of a page early or open
// a comment or script in it.
func TestWritePageData(t *testing.T) {
	pg := buildFile(t, writeFixture(t, t.TempDir(), "s4", "xss.jsonl"))
	var b bytes.Buffer
	if err := WritePage(&b, pg, PageOptions{File: true}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	start := strings.Index(page, `<script type="application/json" id="data">`)
	end := strings.Index(page[start:], "</script>")
	data := page[start+len(`<script type="application/json" id="data">`) : start+end]
	if m := scriptEnd.FindString(data); m != "" {
		t.Errorf("the data holds %q", m)
	}
	// The data written a part at a time is the page as JSON.
	var back Page
	if err := json.Unmarshal([]byte(data), &back); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(pg)
	b2, _ := json.Marshal(&back)
	if !bytes.Equal(a, b2) {
		t.Errorf("the data reads back as\n%s\nnot\n%s", b2, a)
	}
	if !strings.Contains(data, `\u003c/script\u003e\u003cscript\u003econvlogXSS('breakout')`) {
		t.Error("the payload is not in the data, escaped")
	}
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-`) {
		t.Error("the page has no content security policy")
	}
	if strings.Count(page, "<script") != 2 {
		t.Errorf("%d script elements", strings.Count(page, "<script"))
	}
}

func TestView(t *testing.T) {
	str := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	b := func(v bool) *bool { return &v }
	for _, c := range []struct {
		s                  record.Session
		running            bool
		outcome, result    string
		costKind, runURL   string
		agentContains      string
		cost               float64
		noteContains       string
		estimatedCostAbove float64
	}{
		{s: record.Session{ID: "a", EndedAt: n(1), ResultType: str("result"), ResultSubtype: str("success"), TotalCostUSD: new(0.5),
			GitHubRepository: str("o/r"), GitHubRunID: str("12")}, outcome: "success", result: "success", costKind: "reported", cost: 0.5,
			runURL: "https://github.com/o/r/actions/runs/12"},
		{s: record.Session{ID: "b", EndedAt: n(1), ResultType: str("result"), ResultSubtype: str("error_max_turns"), IsError: b(true),
			GitHubRepository: str(`o/r"><x`), GitHubRunID: str("12")}, outcome: "error", result: "error_max_turns"},
		{s: record.Session{ID: "c"}, running: true, outcome: "running", result: "running"},
		{s: record.Session{ID: "d"}, outcome: "incomplete", result: "incomplete (no end recorded)"},
		{s: record.Session{ID: "e", EndedAt: n(1), Model: str("claude-sonnet-4-5-20250929"), InputTokens: n(1_000_000),
			SourceFormat: str("transcript"), AgentVersion: str("2.0.1")},
			outcome: "none", result: "no result line", costKind: "estimated", cost: 3, agentContains: "Claude Code 2.0.1"},
		{s: record.Session{ID: "f", EndedAt: n(1), Model: str("gpt-9"), OutputTokens: n(5)}, outcome: "none", result: "no result line",
			noteContains: `no list price for model "gpt-9"`},
	} {
		v := View(&c.s, c.running)
		if v.Outcome != c.outcome || v.Result != c.result || v.CostKind != c.costKind || v.RunURL != c.runURL ||
			!strings.Contains(v.Agent, c.agentContains) || !strings.Contains(v.CostNote, c.noteContains) {
			t.Errorf("%s: %+v", c.s.ID, v)
		}
		if c.costKind != "" && (v.Cost == nil || *v.Cost != c.cost) {
			t.Errorf("%s: cost %v, want %v", c.s.ID, v.Cost, c.cost)
		}
	}
}

// FuzzPage: whatever a stored line holds, the page's data is JSON, and
// nothing in it can end the data element (TestWritePageData checks that
// WritePage puts the data there).
func FuzzPage(f *testing.F) {
	// Short seeds of each shape: a long one makes the fuzzer spend its time
	// minimizing it.
	for _, l := range []string{
		`{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"a <b>"},{"type":"thinking","thinking":"t"},{"type":"tool_use","id":"x","name":"B","input":{"c":1}}]}}`,
		`{"type":"user","message":{"content":"prompt </script>"},"parent_tool_use_id":"p"}`,
		`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"y","content":"out","is_error":true},{"type":"image","source":{"media_type":"image/png","data":"AAAA"}}]}}`,
		`{"type":"result","subtype":"success","is_error":false,"num_turns":2,"total_cost_usd":0.1,"result":"done","errors":["e",{"a":1}]}`,
		`{"type":"system","subtype":"init","model":"m","cwd":"/w","tools":["B"]}`,
		`{"type":"stream_event","event":{"type":"content_block_delta"}}`,
		"not json <!--",
		"\xff\xfe</script>",
	} {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":"</SCRIPT"}]}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b := newBuilder()
		typ := "assistant"
		for _, k := range []string{"user", "result", "system", "stream_event", "summary"} {
			if bytes.Contains(raw, []byte(`"`+k+`"`)) {
				typ = k
			}
		}
		b.message(&record.Message{ID: "s-msg-0", Raw: raw, Type: &typ})
		b.call(&record.ToolCall{ID: "x", ToolInput: new(string(raw)), ToolOutput: new(string(raw))})
		pg := &Page{Session: SessionView{ID: "s"}}
		pg.Items, pg.Calls, pg.Hidden = b.finish()
		var out bytes.Buffer
		if err := writeData(&out, pg); err != nil {
			t.Fatal(err)
		}
		if m := scriptEnd.FindString(out.String()); m != "" {
			t.Fatalf("the data holds %q", m)
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("the data is not JSON: %q", out.Bytes())
		}
	})
}

// A session that reported no cost, of two models (a sub-agent's on
// another), is estimated model by model, each at its own price, on the
// list as on its page, as convlog query and stats estimate it; not all of
// its tokens at the price of its first model.
func TestEstimateEachModel(t *testing.T) {
	dir := t.TempDir()
	s := testkit.NewSession(t, dir, "two-models")
	s.Line(`{"type":"assistant","message":{"id":"m1","model":"claude-sonnet-4-5-20250929","role":"assistant","content":[{"type":"text","text":"a"}],"usage":{"input_tokens":420,"output_tokens":100}}}`)
	s.Line(`{"type":"assistant","parent_tool_use_id":"t","message":{"id":"m2","model":"claude-haiku-4-5-20251001","role":"assistant","content":[{"type":"text","text":"b"}],"usage":{"input_tokens":230,"output_tokens":53}}}`)
	path := s.Finish()
	sonnet, ok1 := report.PriceOf("claude-sonnet-4-5-20250929")
	haiku, ok2 := report.PriceOf("claude-haiku-4-5-20251001")
	if !ok1 || !ok2 {
		t.Fatal("no list price for the models")
	}
	want := sonnet.Cost(report.TokenCounts{Input: 420, Output: 100}) + haiku.Cost(report.TokenCounts{Input: 230, Output: 53})
	check := func(where string, v SessionView) {
		t.Helper()
		if v.Cost == nil || v.CostKind != "estimated" || math.Abs(*v.Cost-want) > 1e-12 {
			got := "none"
			if v.Cost != nil {
				got = strconv.FormatFloat(*v.Cost, 'g', -1, 64)
			}
			t.Errorf("%s: cost %s (%s), want %v", where, got, v.CostKind, want)
		}
	}
	rows, err := readRows(t.Context(), testkit.OpenDB(t, path))
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d rows: %v", len(rows), err)
	}
	check("list", rows[0].View)
	src, err := OpenFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sess, err := src.Session(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	check("page", View(sess, false))
	db := testkit.OpenDB(t, path)
	sess, err = NewDBSource(db, "two-models").Session(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	check("page from a database", View(sess, false))
}
