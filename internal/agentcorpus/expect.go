package agentcorpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Call is a tool call as the stream shows it.
type Call struct {
	Name   string
	Status string // success, error or pending
	// DurationMS is from the agent's own times where it has them, else
	// from the times the lines arrived, taking line i (from 0) to arrive
	// at (i+1) seconds, as the tests feed them; -1 when not known (a
	// result only, or a call still pending).
	DurationMS int64
}

// Tokens are a session's tokens, in the sessions table's sense: input
// without the cached part, output, cache reads, cache writes.
type Tokens struct {
	Input, Output, CacheRead, CacheWrite int64
}

// Expect is what a stream shows, worked out from its lines alone.
type Expect struct {
	Agent     string // the first agent recognised ("gemini-cli", "codex", "cursor", "opencode")
	Lines     int    // lines, each of which is a message
	SessionID string // the agent's first session id
	Model     string // "" when the stream names none
	// Calls are keyed by the id the tool_calls table gives them: the
	// agent's own, qualified by the run's session id.
	Calls         map[string]Call
	ResultType    string // "" when there is no result
	ResultSubtype string
	IsError       bool
	Tokens        *Tokens  // nil when the stream reports none
	Cost          *float64 // nil when the stream reports none
}

// Statuses counts the calls by status.
func (e *Expect) Statuses() map[string]int {
	n := map[string]int{}
	for _, c := range e.Calls {
		n[c.Status]++
	}
	return n
}

type obj = map[string]any

// reader is the state of one pass over a stream.
type reader struct {
	e       *Expect
	agent   string
	base    string
	qual    string
	starts  map[string]int
	runs    int
	usage   Tokens
	hasUse  bool
	last    map[string]Tokens // cumulative counters: the last per key
	concret string
	init    string
	early   map[string]early // results seen before their call
	line    int64            // the line being read, from 0
	starts2 map[string]start // when each call started
}

type early struct {
	status string
	own    int64
}

type start struct{ own, at int64 }

// at is when the line being read arrived, in ms of the tests' clock.
func (r *reader) at() int64 { return (r.line + 1) * 1000 }

// Read works out what the stream at path shows.
func Read(path string) (*Expect, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data), nil
}

// Parse works out what a stream shows.
func Parse(data []byte) *Expect {
	r := &reader{e: &Expect{Calls: map[string]Call{}}, starts: map[string]int{}, last: map[string]Tokens{}, starts2: map[string]start{}}
	lines := bytes.Split(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] == '\n' {
		lines = lines[:len(lines)-1]
	}
	r.e.Lines = len(lines)
	for i, l := range lines {
		r.line = int64(i)
		dec := json.NewDecoder(bytes.NewReader(l))
		dec.UseNumber()
		var o obj
		if dec.Decode(&o) != nil || dec.More() {
			continue
		}
		if it, ok := o["item"].(obj); ok {
			if id, ok := firstItemID(l); ok {
				it["\x00raw"] = id
			}
		}
		if a := agentOf(o, r.agent); a != "" {
			r.agent = a
			if r.e.Agent == "" {
				r.e.Agent = a
			}
		}
		switch r.agent {
		case "gemini-cli":
			r.gemini(o)
		case "codex":
			r.codex(o)
		case "cursor":
			r.cursor(o)
		case "opencode":
			r.opencode(o)
		}
	}
	for _, t := range r.last {
		r.usage.add(t)
		r.hasUse = true
	}
	if r.hasUse {
		u := r.usage
		r.e.Tokens = &u
	}
	r.e.Model = r.concret
	if r.e.Model == "" {
		r.e.Model = r.init
	}
	return r.e
}

func (t *Tokens) add(o Tokens) {
	t.Input += o.Input
	t.Output += o.Output
	t.CacheRead += o.CacheRead
	t.CacheWrite += o.CacheWrite
}

// agentOf says which agent a line is from, by the keys each one uses;
// "" when the line could be any of them.
func agentOf(o obj, current string) string {
	t := s(o, "type")
	_, hasMsg := o["msg"].(obj)
	switch {
	case t == "init" || t == "message" || has(o, "tool_id") || has(o, "severity") || (t == "result" && has(o, "stats")):
		return "gemini-cli"
	case strings.HasPrefix(t, "thread.") || strings.HasPrefix(t, "turn.") || strings.HasPrefix(t, "item."),
		t == "" && (hasMsg || has(o, "sandbox")):
		return "codex"
	case has(o, "sessionID"):
		return "opencode"
	case t == "tool_call" || t == "thinking" || has(o, "timestamp_ms") || (t == "system" && !has(o, "tools")):
		return "cursor"
	}
	return ""
}

func msString(v any) int64 {
	str, _ := v.(string)
	i, _ := strconv.ParseInt(str, 10, 64)
	return i
}

func has(o obj, k string) bool { _, ok := o[k]; return ok }

func s(o obj, k string) string {
	if o == nil {
		return ""
	}
	v, _ := o[k].(string)
	return v
}

func n(o obj, k string) int64 {
	if o == nil {
		return 0
	}
	num, ok := o[k].(json.Number)
	if !ok {
		return 0
	}
	i, err := num.Int64()
	if err != nil {
		f, _ := num.Float64()
		return int64(f)
	}
	return i
}

func sub(o obj, k string) obj {
	if o == nil {
		return nil
	}
	v, _ := o[k].(obj)
	return v
}

// run starts a run of the agent session id.
func (r *reader) run(id string) {
	r.runs++
	if r.e.SessionID == "" {
		r.e.SessionID = id
	}
	if id == "" {
		return
	}
	r.starts[id]++
	r.base, r.qual = id, id
	if c := r.starts[id]; c > 1 {
		r.qual = id + "/" + strconv.Itoa(c)
	}
}

// seen notes the session id a line names.
func (r *reader) seen(id string) {
	if id == "" {
		return
	}
	if r.e.SessionID == "" {
		r.e.SessionID = id
	}
	if id != r.base {
		r.base, r.qual = id, id
	}
}

func (r *reader) id(raw string) string {
	if r.qual == "" {
		return raw
	}
	return r.qual + ":" + raw
}

// use begins a call, at the agent's own time own (0 if none); known says
// whether the call's start is known at all (not for a call seen only at
// its end).
func (r *reader) use(raw, name string, own int64, known bool) string {
	id := r.id(raw)
	if _, ok := r.e.Calls[id]; !ok {
		r.e.Calls[id] = Call{Name: name, Status: "pending", DurationMS: -1}
		if known {
			r.starts2[id] = start{own: own, at: r.at()}
		}
		if e, ok := r.early[id]; ok {
			delete(r.early, id)
			r.finish(id, e.status, e.own)
		}
	}
	return id
}

// finish completes a call with its end's own time (0 if none).
func (r *reader) finish(id, status string, own int64) {
	c, ok := r.e.Calls[id]
	if !ok || c.Status != "pending" {
		return
	}
	c.Status = status
	if st, ok := r.starts2[id]; ok {
		switch {
		case st.own > 0 && own > 0:
			c.DurationMS = own - st.own
		case st.at > 0:
			c.DurationMS = r.at() - st.at
		}
		if c.DurationMS < 0 {
			c.DurationMS = -1
		}
	}
	r.e.Calls[id] = c
}

func (r *reader) result(typ, subtype string, isErr bool) {
	r.e.ResultType, r.e.ResultSubtype, r.e.IsError = typ, subtype, isErr
}

func (r *reader) gemini(o obj) {
	switch s(o, "type") {
	case "init":
		r.run(s(o, "session_id"))
		if r.init == "" {
			r.init = s(o, "model")
		}
	case "tool_use":
		r.use(s(o, "tool_id"), s(o, "tool_name"), isoMS(s(o, "timestamp")), true)
	case "result":
		r.result("result", s(o, "status"), s(o, "status") != "success")
		st := sub(o, "stats")
		if st == nil {
			return
		}
		t := Tokens{Output: n(st, "output_tokens"), CacheRead: n(st, "cached")}
		if has(st, "input") {
			t.Input = n(st, "input")
		} else {
			t.Input = max(n(st, "input_tokens")-t.CacheRead, 0)
		}
		r.usage.add(t)
		r.hasUse = true
		best, most := "", int64(-1)
		for name, m := range sub(st, "models") {
			if tt := n(m.(obj), "total_tokens"); tt > most || tt == most && name < best {
				best, most = name, tt
			}
		}
		if best != "" {
			r.concret = best
		}
	}
	// A result may come before its call.
	if s(o, "type") == "tool_result" {
		id := r.id(s(o, "tool_id"))
		status := "error"
		if s(o, "status") == "success" && o["error"] == nil {
			status = "success"
		}
		own := isoMS(s(o, "timestamp"))
		if _, ok := r.e.Calls[id]; ok {
			r.finish(id, status, own)
			return
		}
		if r.early == nil {
			r.early = map[string]early{}
		}
		r.early[id] = early{status, own}
	}
}

func isoMS(v string) int64 {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

func (r *reader) codex(o obj) {
	t := s(o, "type")
	if t == "" {
		r.codexLegacy(o)
		return
	}
	switch {
	case t == "thread.started":
		r.run(s(o, "thread_id"))
	case t == "turn.completed":
		r.result(t, "", false)
		if u := sub(o, "usage"); u != nil {
			r.last["thread:"+r.base] = openAIUsage(u)
		}
	case t == "turn.failed":
		r.result(t, "", true)
	case t == "item.started" || t == "item.updated" || t == "item.completed":
		it := sub(o, "item")
		var name string
		switch s(it, "type") {
		case "command_execution":
			name = "Bash"
		case "file_change":
			name = "Edit"
		case "mcp_tool_call":
			name = s(it, "server") + "." + s(it, "tool")
		case "web_search":
			name = "WebSearch"
		case "collab_tool_call":
			name = s(it, "tool")
		default:
			return
		}
		// The item's own id is the first "id" key: a decoder into a map
		// keeps the last one.
		id := r.use(firstID(it), name, 0, t != "item.completed")
		if t != "item.completed" {
			return
		}
		status := "success"
		switch s(it, "status") {
		case "failed", "declined":
			status = "error"
		case "completed", "":
		default:
			return // still running: stays pending
		}
		if code, ok := it["exit_code"].(json.Number); ok && code.String() != "0" {
			status = "error"
		}
		if it["error"] != nil {
			status = "error"
		}
		r.finish(id, status, 0)
	}
}

// firstID is the first "id" of an item as written: the item's own, where
// a web_search item also carries its search's id under the same key.
func firstID(it obj) string {
	if raw, ok := it["\x00raw"].(string); ok {
		return raw
	}
	return s(it, "id")
}

func openAIUsage(u obj) Tokens {
	t := Tokens{Output: n(u, "output_tokens"), CacheRead: n(u, "cached_input_tokens"), CacheWrite: n(u, "cache_write_input_tokens")}
	t.Input = max(n(u, "input_tokens")-t.CacheRead-t.CacheWrite, 0)
	return t
}

func (r *reader) codexLegacy(o obj) {
	msg := sub(o, "msg")
	if msg == nil {
		if has(o, "sandbox") || has(o, "workdir") {
			r.runs++
			if r.init == "" {
				r.init = s(o, "model")
			}
		}
		return
	}
	call := s(msg, "call_id")
	switch t := s(msg, "type"); t {
	case "session_configured":
		r.seen(s(msg, "session_id"))
		if r.init == "" {
			r.init = s(msg, "model")
		}
	case "exec_command_begin":
		r.use(call, "Bash", 0, true)
	case "patch_apply_begin":
		r.use(call, "Edit", 0, true)
	case "mcp_tool_call_begin":
		inv := sub(msg, "invocation")
		r.use(call, s(inv, "server")+"."+s(inv, "tool"), 0, true)
	case "web_search_begin":
		r.use(call, "WebSearch", 0, true)
	case "exec_command_end", "patch_apply_end", "mcp_tool_call_end", "web_search_end":
		status := "success"
		if code, ok := msg["exit_code"].(json.Number); ok && code.String() != "0" {
			status = "error"
		}
		if msg["success"] == false {
			status = "error"
		}
		if res := sub(msg, "result"); res != nil && has(res, "Err") {
			status = "error"
		}
		r.finish(r.id(call), status, 0)
	case "token_count":
		if total := sub(sub(msg, "info"), "total_token_usage"); total != nil {
			r.last[fmt.Sprintf("legacy:%s:%d", r.qual, r.runs)] = openAIUsage(total)
		} else if has(msg, "input_tokens") {
			r.usage.add(openAIUsage(msg))
			r.hasUse = true
		}
	case "task_complete":
		r.result(t, "", false)
	case "error":
		r.result(t, "", true)
	}
}

func (r *reader) cursor(o obj) {
	t := s(o, "type")
	if t == "system" && s(o, "subtype") == "init" {
		r.run(s(o, "session_id"))
		if r.init == "" {
			r.init = s(o, "model")
		}
	}
	r.seen(s(o, "session_id"))
	switch t {
	case "tool_call":
		tc := sub(o, "tool_call")
		var kind string
		var call obj
		for k, v := range tc {
			if k == "toolCallId" || k == "startedAtMs" || k == "completedAtMs" || k == "hookAdditionalContexts" {
				continue
			}
			kind, call = k, v.(obj)
		}
		if call == nil {
			return
		}
		startedAt, completedAt := msString(tc["startedAtMs"]), msString(tc["completedAtMs"])
		ts := n(o, "timestamp_ms")
		begun := s(o, "subtype") == "started"
		own := startedAt
		if own == 0 && begun {
			own = ts
		}
		id := r.use(s(o, "call_id"), strings.TrimSuffix(kind, "ToolCall"), own, begun || startedAt > 0)
		if begun {
			return
		}
		end := ts
		if completedAt > 0 {
			end = completedAt
			if startedAt > 0 {
				st := r.starts2[id]
				st.own = startedAt
				r.starts2[id] = st
			}
		}
		res := sub(call, "result")
		if res == nil {
			r.finish(id, "success", end)
			return
		}
		status := "error"
		if ok := sub(res, "success"); ok != nil {
			status = "success"
			if code, isNum := ok["exitCode"].(json.Number); isNum && code.String() != "0" {
				status = "error"
			}
		}
		r.finish(id, status, end)
	case "result":
		r.result(t, s(o, "subtype"), o["is_error"] == true)
		if u := sub(o, "usage"); u != nil {
			r.usage.add(Tokens{Input: n(u, "inputTokens"), Output: n(u, "outputTokens"), CacheRead: n(u, "cacheReadTokens"), CacheWrite: n(u, "cacheWriteTokens")})
			r.hasUse = true
		}
	}
}

func (r *reader) opencode(o obj) {
	r.seen(s(o, "sessionID"))
	part := sub(o, "part")
	switch t := s(o, "type"); t {
	case "tool_use":
		state := sub(part, "state")
		tm := sub(state, "time")
		id := r.use(s(part, "callID"), s(part, "tool"), n(tm, "start"), true)
		switch s(state, "status") {
		case "completed":
			status := "success"
			if code, ok := sub(state, "metadata")["exit"].(json.Number); ok && code.String() != "0" {
				status = "error"
			}
			r.finish(id, status, n(tm, "end"))
		case "error":
			r.finish(id, "error", n(tm, "end"))
		}
	case "step_finish":
		if tk := sub(part, "tokens"); tk != nil {
			cache := sub(tk, "cache")
			r.usage.add(Tokens{Input: n(tk, "input"), Output: n(tk, "output"), CacheRead: n(cache, "read"), CacheWrite: n(cache, "write")})
			r.hasUse = true
		}
		if c, ok := part["cost"].(json.Number); ok {
			f, _ := c.Float64()
			if r.e.Cost == nil {
				r.e.Cost = new(float64)
			}
			*r.e.Cost += f
		}
		if reason := s(part, "reason"); reason != "tool-calls" {
			r.result(t, reason, false)
		}
	case "error":
		r.result(t, s(sub(o, "error"), "name"), true)
	}
}

// firstItemID reads the first "id" of the line's "item" object, token by
// token: decoding into a map keeps the last of duplicated keys.
func firstItemID(line []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", false
		}
		if k != "item" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return "", false
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return "", false
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return "", false
			}
			var v json.RawMessage
			if dec.Decode(&v) != nil {
				return "", false
			}
			var id string
			if k == "id" && json.Unmarshal(v, &id) == nil {
				return id, true
			}
		}
		return "", false
	}
	return "", false
}
