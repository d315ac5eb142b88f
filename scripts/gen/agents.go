package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"time"
)

// The other agents' streams, shaped as Gemini CLI, Codex, Cursor and
// opencode write them (see stream/testdata/agents): the same filler pools
// and size mix as the Claude Code stream, in each agent's events.

var agentNames = []string{"gemini", "codex", "cursor", "opencode"}

func runAgent(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	name := fs.String("agent", "gemini", "whose stream: gemini, codex, cursor or opencode")
	size := fs.String("size", "10MB", "approximate output size")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := parseSize(*size)
	if err != nil {
		return err
	}
	r := &rng{s: *seed}
	p := newPools(r.fork(), modeStream, poolSizeFor(target))
	w := bufio.NewWriterSize(out, 4<<20)
	g := &agentGen{r: r, p: p, w: w, target: target, clock: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	switch *name {
	case "gemini":
		g.gemini()
	case "codex":
		g.codex()
	case "cursor":
		g.cursor()
	case "opencode":
		g.opencode()
	default:
		return fmt.Errorf("unknown agent %q: use one of %v", *name, agentNames)
	}
	if g.err != nil {
		return g.err
	}
	return w.Flush()
}

type agentGen struct {
	r      *rng
	p      *pools
	w      *bufio.Writer
	target int64
	n      int64
	err    error
	clock  time.Time
	buf    []byte
	calls  int
	in     int // tokens, for the final figures
	out    int
	cached int
}

func (g *agentGen) full() bool { return g.err != nil || g.n >= g.target }

func (g *agentGen) line(b []byte) {
	b = append(b, '\n')
	if g.err == nil {
		if _, err := g.w.Write(b); err != nil {
			g.err = err
		}
	}
	g.n += int64(len(b))
}

func (g *agentGen) tick(lo, hi int) {
	g.clock = g.clock.Add(time.Duration(g.r.between(lo, hi)) * time.Millisecond)
}

func (g *agentGen) iso(b []byte) []byte {
	b = append(b, '"')
	b = g.clock.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

func (g *agentGen) ms(b []byte) []byte { return appendInt(b, int(g.clock.UnixMilli())) }

// text appends a JSON string of about n bytes of filler from pool.
func (g *agentGen) text(b []byte, pl *pool, n int) []byte {
	b = append(b, '"')
	b = pl.fill(b, n, g.r)
	return append(b, '"')
}

// outputSize is a tool's output size: mostly small, now and then large,
// as in the Claude Code stream.
func (g *agentGen) outputSize() int {
	if g.r.chance(20) {
		return g.r.spread(64<<10, 1<<20)
	}
	return g.r.spread(64, 48<<10)
}

// tool is one tool call: its kind, its input's main value and its output.
type tool struct {
	kind   int // 0 shell, 1 read, 2 write
	arg    string
	pool   *pool
	size   int
	failed bool
}

func (g *agentGen) tool() tool {
	t := tool{kind: g.r.intn(3), size: g.outputSize(), failed: g.r.chance(80)}
	switch t.kind {
	case 0:
		t.arg, t.pool = pick(g.r, []string{"go test ./...", "npm run build", "git status --short", "ls -la src", "pytest -q", "cargo check"}), g.p.shell
	case 1:
		t.arg, t.pool = pick(g.r, []string{"src/main.go", "app/routes.py", "web/page.tsx", "README.md", "lib/parse.rs"}), g.p.codeNum
	default:
		t.arg, t.pool, t.size = pick(g.r, []string{"src/util.go", "app/models.py", "web/api.ts"}), g.p.code, g.r.spread(64, 16<<10)
	}
	return t
}

func (g *agentGen) usage(in, out int) {
	g.in += in
	g.out += out
	g.cached += in * 3 / 4
}

// ---------------------------------------------------------------------------
// Gemini CLI: init, message deltas, tool_use/tool_result (results out of
// order), result with stats.

func (g *agentGen) gemini() {
	sid := g.r.uuid()
	b := append(g.buf[:0], `{"type":"init","timestamp":`...)
	b = g.iso(b)
	b = append(b, `,"session_id":"`+sid+`","model":"auto"}`...)
	g.line(b)
	b = append(b[:0], `{"type":"message","timestamp":`...)
	b = g.iso(b)
	b = append(b, `,"role":"user","content":`...)
	b = g.text(b, g.p.prose, g.r.between(40, 400))
	g.line(append(b, '}'))
	for !g.full() {
		for range g.r.between(1, 4) {
			g.tick(20, 200)
			b = append(b[:0], `{"type":"message","timestamp":`...)
			b = g.iso(b)
			b = append(b, `,"role":"assistant","content":`...)
			b = g.text(b, g.p.prose, g.r.between(10, 300))
			g.line(append(b, `,"delta":true}`...))
		}
		tools := make([]tool, g.r.between(1, 3))
		ids := make([]string, len(tools))
		for i := range tools {
			tools[i] = g.tool()
			g.calls++
			ids[i] = fmt.Sprintf("%s__call_%d", []string{"run_shell_command", "read_file", "write_file"}[tools[i].kind], 30000+g.calls)
			g.tick(200, 3000)
			b = append(b[:0], `{"type":"tool_use","timestamp":`...)
			b = g.iso(b)
			b = append(b, `,"tool_name":"`...)
			b = append(b, []string{"run_shell_command", "read_file", "write_file"}[tools[i].kind]...)
			b = append(b, `","tool_id":"`+ids[i]+`","parameters":{`...)
			switch tools[i].kind {
			case 0:
				b = append(b, `"command":`...)
				b = appendStr(b, tools[i].arg)
			case 1:
				b = append(b, `"file_path":`...)
				b = appendStr(b, "/home/dev/app/"+tools[i].arg)
			default:
				b = append(b, `"file_path":`...)
				b = appendStr(b, "/home/dev/app/"+tools[i].arg)
				b = append(b, `,"content":`...)
				b = g.text(b, g.p.code, tools[i].size)
			}
			g.line(append(b, "}}"...))
		}
		// Results in reverse order: the longest call finishes last.
		for i := len(tools) - 1; i >= 0; i-- {
			g.tick(5, 2000)
			b = append(b[:0], `{"type":"tool_result","timestamp":`...)
			b = g.iso(b)
			b = append(b, `,"tool_id":"`+ids[i]+`",`...)
			if tools[i].failed {
				b = append(b, `"status":"error","output":"Command failed","error":{"type":"execution_failed","message":`...)
				b = g.text(b, g.p.shell, g.r.between(40, 2000))
				b = append(b, "}}"...)
			} else if tools[i].kind == 2 {
				b = append(b, `"status":"success","output":"Successfully wrote the file."}`...)
			} else {
				b = append(b, `"status":"success","output":`...)
				b = g.text(b, tools[i].pool, tools[i].size)
				b = append(b, '}')
			}
			g.line(b)
		}
		g.usage(g.r.between(4000, 30000), g.r.between(50, 900))
	}
	g.tick(100, 1000)
	b = append(b[:0], `{"type":"result","timestamp":`...)
	b = g.iso(b)
	b = fmt.Appendf(b, `,"status":"success","stats":{"total_tokens":%d,"input_tokens":%d,"output_tokens":%d,"cached":%d,"input":%d,"duration_ms":%d,"tool_calls":%d,"models":{"gemini-2.5-flash":{"total_tokens":%d,"input_tokens":%d,"output_tokens":%d,"cached":%d,"input":%d}}}}`,
		g.in+g.out, g.in, g.out, g.cached, g.in-g.cached, g.r.between(10000, 900000), g.calls,
		g.in+g.out, g.in, g.out, g.cached, g.in-g.cached)
	g.line(b)
	g.buf = b
}

// ---------------------------------------------------------------------------
// Codex: thread.started, turn.started, items (commands overlapping and
// completing out of order, file changes, agent messages), turn.completed.

func (g *agentGen) codex() {
	b := append(g.buf[:0], `{"type":"thread.started","thread_id":"`+g.r.uuid()+`"}`...)
	g.line(b)
	g.line(append(b[:0], `{"type":"turn.started"}`...))
	item := 0
	next := func() string { item++; return fmt.Sprintf("item_%d", item-1) }
	for !g.full() {
		b = append(b[:0], `{"type":"item.completed","item":{"id":"`+next()+`","type":"reasoning","text":`...)
		b = g.text(b, g.p.prose, g.r.between(20, 400))
		g.line(append(b, "}}"...))
		tools := make([]tool, g.r.between(1, 3))
		ids := make([]string, len(tools))
		for i := range tools {
			tools[i] = g.tool()
			ids[i] = next()
			if tools[i].kind == 2 {
				continue // a file change, completed at once below
			}
			b = append(b[:0], `{"type":"item.started","item":{"id":"`+ids[i]+`","type":"command_execution","command":`...)
			b = appendStr(b, "/bin/bash -lc '"+tools[i].arg+"'")
			g.line(append(b, `,"aggregated_output":"","exit_code":null,"status":"in_progress"}}`...))
		}
		for i := len(tools) - 1; i >= 0; i-- {
			if tools[i].kind == 2 {
				b = append(b[:0], `{"type":"item.completed","item":{"id":"`+ids[i]+`","type":"file_change","changes":[{"path":`...)
				b = appendStr(b, "/srv/app/"+tools[i].arg)
				g.line(append(b, `,"kind":"update"}],"status":"completed"}}`...))
				continue
			}
			b = append(b[:0], `{"type":"item.completed","item":{"id":"`+ids[i]+`","type":"command_execution","command":`...)
			b = appendStr(b, "/bin/bash -lc '"+tools[i].arg+"'")
			b = append(b, `,"aggregated_output":`...)
			b = g.text(b, tools[i].pool, tools[i].size)
			if tools[i].failed {
				b = append(b, `,"exit_code":1,"status":"failed"}}`...)
			} else {
				b = append(b, `,"exit_code":0,"status":"completed"}}`...)
			}
			g.line(b)
		}
		b = append(b[:0], `{"type":"item.completed","item":{"id":"`+next()+`","type":"agent_message","text":`...)
		b = g.text(b, g.p.prose, g.r.between(20, 1500))
		g.line(append(b, "}}"...))
		g.usage(g.r.between(4000, 30000), g.r.between(50, 900))
	}
	b = fmt.Appendf(b[:0], `{"type":"turn.completed","usage":{"input_tokens":%d,"cached_input_tokens":%d,"output_tokens":%d}}`, g.in, g.cached, g.out)
	g.line(b)
	g.buf = b
}

// ---------------------------------------------------------------------------
// Cursor: system/init, user, assistant, tool_call started/completed (in
// parallel, completing out of order), result with usage.

func (g *agentGen) cursor() {
	sid := g.r.uuid()
	tail := `,"session_id":"` + sid + `"`
	b := append(g.buf[:0], `{"type":"system","subtype":"init","apiKeySource":"login","cwd":"/Users/dev/app"`+tail+`,"model":"Claude 4.5 Sonnet","permissionMode":"default"}`...)
	g.line(b)
	b = append(b[:0], `{"type":"user","message":{"role":"user","content":[{"type":"text","text":`...)
	b = g.text(b, g.p.prose, g.r.between(40, 400))
	g.line(append(b, `}]}`+tail+`}`...))
	for !g.full() {
		mc := g.r.uuid()
		g.tick(200, 3000)
		b = append(b[:0], `{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":`...)
		b = g.text(b, g.p.prose, g.r.between(20, 800))
		b = append(b, `}]}`+tail+`,"model_call_id":"`+mc+`","timestamp_ms":`...)
		g.line(append(g.ms(b), '}'))
		tools := make([]tool, g.r.between(1, 3))
		ids := make([]string, len(tools))
		starts := make([]int64, len(tools))
		kinds := []string{"shellToolCall", "readToolCall", "editToolCall"}
		for i := range tools {
			tools[i] = g.tool()
			ids[i] = g.r.id("toolu_vrtx_01", 22)
			g.tick(1, 10)
			starts[i] = g.clock.UnixMilli()
			b = append(b[:0], `{"type":"tool_call","subtype":"started","call_id":"`+ids[i]+`","tool_call":{"`+kinds[tools[i].kind]+`":{"args":{"`...)
			b = append(b, []string{"command", "path", "path"}[tools[i].kind]...)
			b = append(b, `":`...)
			b = appendStr(b, tools[i].arg)
			b = append(b, `}},"toolCallId":"`+ids[i]+`","startedAtMs":"`...)
			b = g.ms(b)
			b = append(b, `"},"model_call_id":"`+mc+`"`+tail+`,"timestamp_ms":`...)
			g.line(append(g.ms(b), '}'))
		}
		for i := len(tools) - 1; i >= 0; i-- {
			g.tick(5, 3000)
			b = append(b[:0], `{"type":"tool_call","subtype":"completed","call_id":"`+ids[i]+`","tool_call":{"`+kinds[tools[i].kind]+`":{"args":{"`...)
			b = append(b, []string{"command", "path", "path"}[tools[i].kind]...)
			b = append(b, `":`...)
			b = appendStr(b, tools[i].arg)
			b = append(b, `},"result":`...)
			switch {
			case tools[i].kind == 0:
				b = append(b, `{"success":{"command":`...)
				b = appendStr(b, tools[i].arg)
				b = append(b, `,"exitCode":`...)
				b = appendInt(b, map[bool]int{false: 0, true: 1}[tools[i].failed])
				b = append(b, `,"stdout":`...)
				b = g.text(b, tools[i].pool, tools[i].size)
				b = append(b, `,"stderr":""}}`...)
			case tools[i].failed:
				b = append(b, `{"rejected":{"reason":"User rejected the edit"}}`...)
			default:
				b = append(b, `{"success":{"content":`...)
				b = g.text(b, tools[i].pool, tools[i].size)
				b = append(b, `,"isEmpty":false}}`...)
			}
			b = append(b, `},"toolCallId":"`+ids[i]+`","startedAtMs":"`...)
			b = appendInt(b, int(starts[i]))
			b = append(b, `","completedAtMs":"`...)
			b = g.ms(b)
			b = append(b, `"},"model_call_id":"`+mc+`"`+tail+`,"timestamp_ms":`...)
			g.line(append(g.ms(b), '}'))
		}
		g.usage(g.r.between(4000, 30000), g.r.between(50, 900))
	}
	b = append(b[:0], `{"type":"result","subtype":"success","duration_ms":`...)
	b = appendInt(b, g.r.between(10000, 900000))
	b = append(b, `,"is_error":false,"result":`...)
	b = g.text(b, g.p.prose, g.r.between(40, 2000))
	b = fmt.Appendf(b, `%s,"request_id":"%s","usage":{"inputTokens":%d,"outputTokens":%d,"cacheReadTokens":%d,"cacheWriteTokens":%d}}`,
		tail, g.r.uuid(), g.in-g.cached, g.out, g.cached, g.in/20)
	g.line(b)
	g.buf = b
}

// ---------------------------------------------------------------------------
// opencode: steps of step_start, text, tool_use (one event per finished
// call, with its times) and step_finish with the step's tokens and cost.

func (g *agentGen) opencode() {
	sid := "ses_" + g.r.id("", 26)
	env := func(b []byte, typ string) []byte {
		b = append(b, `{"type":"`+typ+`","timestamp":`...)
		b = g.ms(b)
		return append(b, `,"sessionID":"`+sid+`","part":{"id":"prt_`+g.r.id("", 26)+`","sessionID":"`+sid+`","messageID":"msg_`+g.r.id("", 26)+`",`...)
	}
	snap := g.r.id("", 40)
	var b []byte
	for {
		b = env(b[:0], "step_start")
		g.line(append(b, `"type":"step-start","snapshot":"`+snap+`"}}`...))
		g.tick(200, 3000)
		b = env(b[:0], "text")
		b = append(b, `"type":"text","text":`...)
		b = g.text(b, g.p.prose, g.r.between(20, 800))
		b = append(b, `,"time":{"start":`...)
		b = g.ms(b)
		b = append(b, `,"end":`...)
		g.line(append(g.ms(b), "}}}"...))
		stop := g.full()
		if !stop {
			for range g.r.between(1, 3) {
				t := g.tool()
				start := g.clock.UnixMilli()
				g.tick(5, 3000)
				b = env(b[:0], "tool_use")
				b = append(b, `"type":"tool","callID":"`+g.r.id("toolu_01", 22)+`","tool":"`...)
				b = append(b, []string{"bash", "read", "write"}[t.kind]...)
				b = append(b, `","state":{"status":"`...)
				if t.failed && t.kind != 0 {
					b = append(b, `error","input":{"filePath":`...)
					b = appendStr(b, "/home/dev/app/"+t.arg)
					b = append(b, `},"error":"File not found"`...)
				} else {
					b = append(b, `completed","input":{"`...)
					b = append(b, []string{"command", "filePath", "filePath"}[t.kind]...)
					b = append(b, `":`...)
					b = appendStr(b, t.arg)
					b = append(b, `},"output":`...)
					b = g.text(b, t.pool, t.size)
					b = append(b, `,"title":`...)
					b = appendStr(b, t.arg)
					b = append(b, `,"metadata":{"exit":`...)
					b = appendInt(b, map[bool]int{false: 0, true: 1}[t.failed])
					b = append(b, '}')
				}
				b = append(b, `,"time":{"start":`...)
				b = appendInt(b, int(start))
				b = append(b, `,"end":`...)
				g.line(append(g.ms(b), "}}}}"...))
			}
		}
		in, out := g.r.between(500, 4000), g.r.between(50, 900)
		cache := g.r.between(4000, 30000)
		reason := "tool-calls"
		if stop {
			reason = "stop"
		}
		b = env(b[:0], "step_finish")
		b = fmt.Appendf(b, `"type":"step-finish","reason":"%s","snapshot":"%s","cost":%d.%06d,"tokens":{"total":%d,"input":%d,"output":%d,"reasoning":0,"cache":{"read":%d,"write":0}}}}`,
			reason, snap, 0, g.r.between(1000, 30000), in+out+cache, in, out, cache)
		g.line(b)
		if stop {
			break
		}
	}
	g.buf = b
}
