package agentcorpus

import (
	"bytes"
	"database/sql"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// SessionFile is what a session file holds of one agent stream, read back
// with SQL.
type SessionFile struct {
	lines  [][]byte
	calls  map[string]Call
	agent  sql.NullString
	sid    sql.NullString
	model  sql.NullString
	format sql.NullString
	rtype  sql.NullString
	rsub   sql.NullString
	isErr  sql.NullInt64
	in     sql.NullInt64
	out    sql.NullInt64
	cw     sql.NullInt64
	cr     sql.NullInt64
	cost   sql.NullFloat64
	turns  sql.NullInt64
	ended  sql.NullInt64
}

// ReadSessionFile reads a session file back with SQL, for Check.
func ReadSessionFile(t testing.TB, path string) *SessionFile {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := &SessionFile{calls: map[string]Call{}}
	err = db.QueryRow(`SELECT agent, agent_session_id, model, source_format, result_type, result_subtype, is_error,
		input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, total_cost_usd, num_turns, ended_at FROM sessions`).
		Scan(&f.agent, &f.sid, &f.model, &f.format, &f.rtype, &f.rsub, &f.isErr, &f.in, &f.out, &f.cw, &f.cr, &f.cost, &f.turns, &f.ended)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT raw_message FROM messages ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var raw []byte
		rows.Scan(&raw)
		f.lines = append(f.lines, raw)
	}
	rows.Close()
	rows, err = db.Query(`SELECT id, tool_name, status, duration_ms FROM tool_calls`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, status string
		var d sql.NullInt64
		rows.Scan(&id, &name, &status, &d)
		c := Call{Name: name, Status: status, DurationMS: -1}
		if d.Valid {
			c.DurationMS = d.Int64
		}
		f.calls[id] = c
	}
	return f
}

// Check compares a session file with what its stream (data) shows.
// Durations are compared when the lines were fed with the tests' clock
// (live: line i at (i+1) s after the start); an import has its own times.
func (f *SessionFile) Check(t testing.TB, want *Expect, data []byte, live bool) {
	t.Helper()
	lines := bytes.Split(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] == '\n' {
		lines = lines[:len(lines)-1]
	}
	if len(f.lines) != want.Lines || len(lines) != want.Lines {
		t.Fatalf("%d messages, want %d", len(f.lines), want.Lines)
	}
	for i := range lines {
		if !bytes.Equal(f.lines[i], lines[i]) {
			t.Fatalf("message %d stored as %q, want %q", i, f.lines[i], lines[i])
		}
	}
	if len(f.calls) != len(want.Calls) {
		t.Errorf("%d tool calls %v, want %v", len(f.calls), f.calls, want.Calls)
	}
	for id, w := range want.Calls {
		got := f.calls[id]
		if !live {
			got.DurationMS, w.DurationMS = 0, 0
		}
		if got != w {
			t.Errorf("tool call %s: %+v, want %+v", id, got, w)
		}
	}
	str := func(v sql.NullString) string { return v.String }
	if str(f.agent) != want.Agent || str(f.sid) != want.SessionID || str(f.model) != want.Model {
		t.Errorf("agent %q session %q model %q, want %q %q %q", f.agent.String, f.sid.String, f.model.String, want.Agent, want.SessionID, want.Model)
	}
	if want.Agent != "" && want.Agent != "claude-code" && !strings.HasPrefix(f.format.String, strings.SplitN(want.Agent, "-", 2)[0]) {
		t.Errorf("source_format %q for %s", f.format.String, want.Agent)
	}
	if want.ResultType == "" {
		if f.rtype.Valid || f.isErr.Valid {
			t.Errorf("result %q is_error %v where the stream has none", f.rtype.String, f.isErr)
		}
	} else if f.rtype.String != want.ResultType || f.rsub.String != want.ResultSubtype || !f.isErr.Valid || (f.isErr.Int64 == 1) != want.IsError {
		t.Errorf("result %q/%q is_error %v, want %q/%q %v", f.rtype.String, f.rsub.String, f.isErr, want.ResultType, want.ResultSubtype, want.IsError)
	}
	if f.turns.Valid {
		t.Errorf("num_turns %d: no agent here reports turns", f.turns.Int64)
	}
	if want.Tokens == nil {
		if f.in.Valid || f.out.Valid {
			t.Errorf("tokens stored where the stream reports none")
		}
	} else if w := want.Tokens; f.in.Int64 != w.Input || f.out.Int64 != w.Output || f.cr.Int64 != w.CacheRead || f.cw.Int64 != w.CacheWrite || !f.in.Valid {
		t.Errorf("tokens in %v out %v cache read %v write %v, want %+v", f.in, f.out, f.cr, f.cw, *w)
	}
	if want.Cost == nil {
		if f.cost.Valid {
			t.Errorf("cost %v where the stream reports none", f.cost.Float64)
		}
	} else if !f.cost.Valid || f.cost.Float64 != *want.Cost {
		t.Errorf("cost %v, want %v", f.cost, *want.Cost)
	}
	if live && !f.ended.Valid {
		t.Errorf("session not finished")
	}
}

// Model is the session's model as stored; "" when NULL.
func (f *SessionFile) Model() string { return f.model.String }
