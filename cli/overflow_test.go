package cli

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// Numbers in a stream that no column can hold: a cost that overflows a
// float (1e400 is +Inf), token counts beyond an int64.
var overflowSessions = map[string]string{
	"inf-cost": `{"type":"system","subtype":"init","session_id":"a","model":"claude-x"}
{"type":"result","subtype":"success","is_error":false,"num_turns":1,"total_cost_usd":1e400}
`,
	"big-result-tokens": `{"type":"system","subtype":"init","session_id":"b","model":"claude-x"}
{"type":"result","subtype":"success","is_error":false,"num_turns":1e30,"total_cost_usd":0.25,"usage":{"input_tokens":1e19,"output_tokens":5}}
`,
	"big-message-tokens": `{"type":"system","subtype":"init","session_id":"c","model":"claude-sonnet-4-5"}
{"type":"assistant","message":{"id":"m1","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":1e19,"output_tokens":5}}}
{"type":"assistant","message":{"id":"m2","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":9223372036854775807,"output_tokens":5}}}
{"type":"assistant","message":{"id":"m3","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":9223372036854775807,"output_tokens":5}}}
`,
	"fine": `{"type":"system","subtype":"init","session_id":"d","model":"claude-x"}
{"type":"result","subtype":"success","is_error":false,"num_turns":2,"total_cost_usd":0.5,"usage":{"input_tokens":10,"output_tokens":20}}
`,
}

// TestOverflowingNumbers: one session's numbers that do not fit their
// columns are stored as NULL (the stored line keeps them), and no command
// over the folder fails for them, whether tee wrote the file now or an
// older convlog wrote +Inf and huge values into it, and even once the file
// is gone and only the archive remembers the session.
func TestOverflowingNumbers(t *testing.T) {
	dir := t.TempDir()
	sessions := filepath.Join(dir, "sessions")
	for id, in := range overflowSessions {
		res := runConvlog(t, dir, []byte(in), nil, "tee", "--quiet", "--dir", sessions, "--session-id", id)
		if res.code != 0 || !bytes.Equal(res.stdout, []byte(in)) || bytes.Contains(res.stderr, []byte("convlog:")) {
			t.Fatalf("tee %s: exit %d: %s", id, res.code, res.stderr)
		}
	}
	for _, c := range []struct{ id, q string }{
		{"inf-cost", `SELECT total_cost_usd IS NULL AND num_turns = 1 FROM sessions`},
		{"big-result-tokens", `SELECT input_tokens IS NULL AND output_tokens = 5 AND num_turns IS NULL AND total_cost_usd = 0.25 FROM sessions`},
		{"big-message-tokens", `SELECT input_tokens IS NULL AND output_tokens = 15 FROM sessions`},
		{"fine", `SELECT input_tokens = 10 AND total_cost_usd = 0.5 FROM sessions`},
		{"inf-cost", `SELECT count(*) = 1 FROM messages WHERE raw_message LIKE '%1e400%'`},
	} {
		var ok bool
		testkit.QueryRow(t, testkit.OpenDB(t, filepath.Join(sessions, c.id+".db")), c.q, &ok)
		if !ok {
			t.Errorf("%s: not %s", c.id, c.q)
		}
	}

	// Files as an older convlog wrote them: +Inf and a REAL too big for an
	// int64 in the session row.
	old := filepath.Join(sessions, "old-values.db")
	copyFile(t, filepath.Join(sessions, "fine.db"), old)
	rw, err := sql.Open("sqlite", "file:"+old+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rw.Exec(`UPDATE sessions SET id = 'old-values', total_cost_usd = 9e999, input_tokens = 1e19, num_turns = -1e300,
		agent_session_id = 'old-values-agent'`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE messages SET session_id = 'old-values', id = replace(id, 'fine', 'old-values')`,
		`UPDATE tool_calls SET session_id = 'old-values'`,
		"UPDATE " + record.UsageTable + " SET session_id = 'old-values', input_tokens = 1e19, cost_usd = 9e999",
	} {
		if _, err := rw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rw.Close()

	commandsCope(t, dir, sessions, 5)

	// Every session reaches a libSQL server; nothing that does not fit is
	// sent as anything but NULL.
	srv := testkit.Start(t)
	res := runConvlog(t, dir, nil, creds(srv.URL), "sync", "--all", "--dir", sessions)
	if res.code != 0 {
		t.Fatalf("sync --all: exit %d: %s", res.code, res.stderr)
	}
	if n := countOn(t, srv, `SELECT count(*) FROM sessions`); n != 5 {
		t.Fatalf("%d of 5 sessions synced: %s", n, res.stderr)
	}
	if n := countOn(t, srv, `SELECT count(*) FROM sessions WHERE total_cost_usd IS NULL AND id IN ('inf-cost', 'old-values')`); n != 2 {
		t.Fatalf("%d of 2 costs that do not fit synced as NULL", n)
	}

	// Gone from the folder, kept by the archive: still no failure.
	for _, id := range []string{"inf-cost", "big-message-tokens", "old-values"} {
		os.Remove(filepath.Join(sessions, id+".db"))
	}
	// And an archive that an older convlog filled with them.
	arch, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "convlog.db")+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE " + record.UsageTable + " SET input_tokens = 1e19, cost_usd = 9e999 WHERE session_id = 'big-message-tokens'",
		"UPDATE " + record.UsageTable + " SET input_tokens = 9223372036854775807 WHERE session_id = 'fine'",
		`UPDATE sessions SET total_cost_usd = 9e999, input_tokens = 1e19, duration_ms = 1e300 WHERE id = 'inf-cost'`,
		`UPDATE sessions SET input_tokens = 9223372036854775807, total_messages = 9223372036854775807 WHERE id IN ('fine', 'big-result-tokens')`,
	} {
		if res, err := arch.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			t.Fatalf("%s: no row", q)
		}
	}
	arch.Close()
	for _, args := range [][]string{{"stats", "--json"}, {"stats"}, {"sql", "--json", "SELECT * FROM sessions"}} {
		res := runConvlog(t, dir, nil, nil, append(args, "--dir", sessions)...)
		if res.code != 0 || len(res.stderr) != 0 {
			t.Fatalf("%v after the files went: exit %d: %s", args, res.code, res.stderr)
		}
	}
}

// commandsCope runs every reading command over the folder: none fails, and
// the JSON ones give valid JSON.
func commandsCope(t *testing.T, dir, sessions string, n int) {
	t.Helper()
	res := runConvlog(t, dir, nil, nil, "list", "--json", "--dir", sessions)
	var list []struct {
		ID    string `json:"id"`
		Error any    `json:"error"`
	}
	if err := json.Unmarshal(res.stdout, &list); res.code != 0 || err != nil || len(list) != n {
		t.Fatalf("list --json: exit %d, %v: %s%s", res.code, err, res.stdout, res.stderr)
	}
	for _, e := range list {
		if e.Error != nil {
			t.Errorf("list: %s: %v", e.ID, e.Error)
		}
		for _, args := range [][]string{{"--json", "--messages", "--tools"}, {"--messages"}, {"--markdown"}} {
			res := runConvlog(t, dir, nil, nil, append([]string{"query", "--dir", sessions, e.ID}, args...)...)
			if res.code != 0 || (args[0] == "--json" && !json.Valid(res.stdout)) {
				t.Errorf("query %s %v: exit %d: %s", e.ID, args, res.code, res.stderr)
			}
		}
	}
	for _, args := range [][]string{{"list"}, {"stats"}, {"sql", "SELECT * FROM sessions"}} {
		res := runConvlog(t, dir, nil, nil, append(args, "--dir", sessions)...)
		if res.code != 0 || len(res.stderr) != 0 {
			t.Errorf("%v: exit %d: %s", args, res.code, res.stderr)
		}
	}
	res = runConvlog(t, dir, nil, nil, "sql", "--json", "--dir", sessions, "SELECT * FROM sessions")
	if res.code != 0 || !json.Valid(res.stdout) {
		t.Errorf("sql --json: exit %d: %s", res.code, res.stderr)
	}
	res = runConvlog(t, dir, nil, nil, "stats", "--json", "--dir", sessions)
	var st struct {
		Sessions int `json:"sessions"`
	}
	if err := json.Unmarshal(res.stdout, &st); res.code != 0 || err != nil || st.Sessions != n {
		t.Errorf("stats --json: exit %d, %v, %d sessions: %s", res.code, err, st.Sessions, res.stderr)
	}
}
