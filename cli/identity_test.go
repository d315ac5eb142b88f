package cli

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// One agent session (agent-1) seen twice: its stream, logged by convlog
// tee, and its transcript, imported. Both hold the same tool call.
const (
	identityStream = `{"type":"system","subtype":"init","cwd":"/w","session_id":"agent-1","model":"claude-sonnet-4-5-20250929","tools":["Bash"]}
{"type":"assistant","message":{"id":"msg_i1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_i1","name":"Bash","input":{"command":"ls"}}],"usage":{"input_tokens":10,"output_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":100}},"session_id":"agent-1"}
{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_i1","content":"a b","is_error":false}]},"session_id":"agent-1"}
{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"agent-1","total_cost_usd":0.46,"usage":{"input_tokens":10,"output_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":100},"modelUsage":{"claude-sonnet-4-5-20250929":{"inputTokens":10,"outputTokens":20,"cacheReadInputTokens":100,"cacheCreationInputTokens":0,"costUSD":0.46}}}
`
	identityTranscript = `{"type":"user","sessionId":"agent-1","cwd":"/w","version":"2.0.0","timestamp":"2025-12-23T10:00:00.000Z","message":{"role":"user","content":"list"}}
{"type":"assistant","sessionId":"agent-1","timestamp":"2025-12-23T10:00:01.000Z","message":{"id":"msg_i1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_i1","name":"Bash","input":{"command":"ls"}}],"usage":{"input_tokens":10,"output_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":100}}}
{"type":"user","sessionId":"agent-1","timestamp":"2025-12-23T10:00:02.000Z","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_i1","content":"a b","is_error":false}]}}
`
)

// TestAgentSessionSeenTwice: the two sessions are linked in query and list;
// stats counts the agent session once, by its reported cost, through the
// archive and the synced database alike; each session keeps its tool call
// in the archive and on the server; importing the transcript again (under
// another name) doubles nothing.
func TestAgentSessionSeenTwice(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	if res := runConvlog(t, work, []byte(identityStream), nil, "tee", "--no-sync", "--session-id", "tee-copy"); res.code != 0 {
		t.Fatalf("tee: exit %d: %s", res.code, res.stderr)
	}
	transcript := filepath.Join(t.TempDir(), "t.jsonl")
	if err := os.WriteFile(transcript, []byte(identityTranscript), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := runConvlog(t, work, nil, nil, "import", transcript); res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}

	list := runConvlog(t, work, nil, nil, "list")
	if n := strings.Count(string(list.stdout), ", linked"); n != 2 {
		t.Errorf("list shows %d links, want 2:\n%s", n, list.stdout)
	}
	list = runConvlog(t, work, nil, nil, "list", "--wide")
	if n := strings.Count(string(list.stdout), "same agent session as"); n != 2 {
		t.Errorf("list --wide names %d links, want 2:\n%s", n, list.stdout)
	}
	if q := runConvlog(t, work, nil, nil, "query", "tee-copy"); !strings.Contains(string(q.stdout), "Same Agent Session: ") {
		t.Errorf("query shows no link:\n%s", q.stdout)
	}

	srv := testkit.Start(t)
	if r := runConvlog(t, work, nil, creds(srv.URL), "sync", "--all"); r.code != 0 {
		t.Fatalf("sync: exit %d: %s", r.code, r.stderr)
	}
	local := statsOf(t, work)
	if local.Sessions != 1 || len(local.Copies) != 1 || local.CostTotal.ReportedCostUSD == nil ||
		*local.CostTotal.ReportedCostUSD != 0.46 || local.CostTotal.EstimatedCostUSD != nil || local.CostTotal.Input != 10 || local.ToolCalls != 1 {
		t.Errorf("stats: %d sessions, copies %v, total %+v, %d tool calls; want the agent session once, $0.46 reported",
			local.Sessions, local.Copies, local.CostTotal, local.ToolCalls)
	}
	res := runConvlog(t, work, nil, nil, "stats", "--json")
	remote := runConvlog(t, work, nil, creds(srv.URL), "stats", "--json", "--url", srv.URL)
	if remote.code != 0 || !bytes.Equal(res.stdout, remote.stdout) {
		t.Errorf("stats --url (exit %d, %s):\n%s\nlocal:\n%s", remote.code, remote.stderr, remote.stdout, res.stdout)
	}

	check := func(where string, db *sql.DB) {
		t.Helper()
		var rows, sessions, ids int
		err := db.QueryRow(`SELECT count(*), count(DISTINCT session_id), count(DISTINCT id) FROM tool_calls WHERE tool_use_id = 'toolu_i1'`).
			Scan(&rows, &sessions, &ids)
		if err != nil || rows != 2 || sessions != 2 || ids != 2 {
			t.Errorf("%s: %d rows of toolu_i1 in %d sessions under %d ids (%v), want one in each session", where, rows, sessions, ids, err)
		}
	}
	// stats takes in only what it reads; sql brings in the tool calls.
	if res := runConvlog(t, work, nil, nil, "sql", "SELECT 1"); res.code != 0 {
		t.Fatalf("sql: exit %d: %s", res.code, res.stderr)
	}
	archive, err := record.OpenReadOnly(t.Context(), archiveOf(work))
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	check("archive", archive)
	check("server", srv.DB())

	// The same transcript again, under another name: nothing more counts.
	again := filepath.Join(t.TempDir(), "copy.jsonl")
	if err := os.WriteFile(again, []byte(identityTranscript), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := runConvlog(t, work, nil, nil, "import", again); res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}
	if st := statsOf(t, work); st.Sessions != 1 || len(st.Copies) != 1 || *st.CostTotal.ReportedCostUSD != 0.46 || st.CostTotal.Input != 10 {
		t.Errorf("after a second import: %d sessions, copies %v, total %+v", st.Sessions, st.Copies, st.CostTotal)
	}
}
