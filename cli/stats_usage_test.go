package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// usageKindLines are sessions that count tokens in the ways the fixture set
// (all of kind a or b) leaves out: C1 and C2 have result lines without
// modelUsage, so their totals count under their model, reported (C1) or
// estimated (C2); AB's result line has modelUsage but no usage, so both it
// and its assistant message count: two rows for opus in one session.
var usageKindLines = map[string]string{
	"c1.jsonl": `{"type":"system","subtype":"init","cwd":"/w","session_id":"fx-c1","model":"claude-sonnet-4-5-20250929","tools":["Bash"],"timestamp":"2025-12-23T10:00:00.000Z"}
{"type":"assistant","message":{"id":"msg_c1_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Done."}],"usage":{"input_tokens":7,"output_tokens":70,"cache_creation_input_tokens":700,"cache_read_input_tokens":7000}},"session_id":"fx-c1","timestamp":"2025-12-23T10:00:05.000Z"}
{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"fx-c1","total_cost_usd":0.07,"usage":{"input_tokens":7,"output_tokens":70,"cache_creation_input_tokens":700,"cache_read_input_tokens":7000},"timestamp":"2025-12-23T10:00:09.000Z","result":"Done."}
`,
	"c2.jsonl": `{"type":"system","subtype":"init","cwd":"/w","session_id":"fx-c2","model":"claude-haiku-4-5-20251001","tools":["Bash"],"timestamp":"2025-12-23T11:00:00.000Z"}
{"type":"assistant","message":{"id":"msg_c2_1","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"Done."}],"usage":{"input_tokens":9,"output_tokens":90,"cache_creation_input_tokens":0,"cache_read_input_tokens":900}},"session_id":"fx-c2","timestamp":"2025-12-23T11:00:05.000Z"}
{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"fx-c2","usage":{"input_tokens":9,"output_tokens":90,"cache_creation_input_tokens":0,"cache_read_input_tokens":900},"timestamp":"2025-12-23T11:00:09.000Z","result":"Done."}
`,
	"ab.jsonl": `{"type":"system","subtype":"init","cwd":"/w","session_id":"fx-ab","model":"claude-opus-4-5-20251101","tools":["Bash"],"timestamp":"2025-12-23T12:00:00.000Z"}
{"type":"assistant","message":{"id":"msg_ab_1","type":"message","role":"assistant","model":"claude-opus-4-5-20251101","content":[{"type":"text","text":"Hm."}],"usage":{"input_tokens":3,"output_tokens":31,"cache_creation_input_tokens":0,"cache_read_input_tokens":301}},"session_id":"fx-ab","timestamp":"2025-12-23T12:00:05.000Z"}
{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"fx-ab","modelUsage":{"claude-opus-4-5-20251101":{"inputTokens":3,"outputTokens":30,"cacheReadInputTokens":300,"cacheCreationInputTokens":0},"claude-haiku-4-5-20251001":{"inputTokens":1,"outputTokens":2,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"costUSD":0.001}},"timestamp":"2025-12-23T12:00:09.000Z","result":"Done."}
`,
}

// importLines imports each named JSONL text into work's session folder.
func importLines(t *testing.T, work string, files map[string]string) {
	t.Helper()
	args := []string{"import"}
	for name, text := range files {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	if res := runConvlog(t, work, nil, nil, args...); res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}
}

// archiveOf is the archive of work's default session folder.
func archiveOf(work string) string { return filepath.Join(work, ".turso", archive.Name) }

// statsTwoWays runs `convlog stats` with args in work through the archive,
// and through a file target that `convlog sync --all` filled from the same
// session files: a database read as a synced one is, from its usage rows.
// The two outputs must be the same; it returns that of the archive.
func statsTwoWays(t *testing.T, work string, args ...string) []byte {
	t.Helper()
	res := runConvlog(t, work, nil, nil, append([]string{"stats"}, args...)...)
	if res.code != 0 || len(res.stderr) != 0 {
		t.Fatalf("stats %v: exit %d: %s", args, res.code, res.stderr)
	}
	target := "file:" + filepath.Join(t.TempDir(), "target.db")
	if sync := runConvlog(t, work, nil, nil, "sync", "--all", "--url", target); sync.code != 0 {
		t.Fatalf("sync: exit %d: %s", sync.code, sync.stderr)
	}
	synced := runConvlog(t, work, nil, nil, append([]string{"stats", "--url", target}, args...)...)
	if synced.code != 0 || len(synced.stderr) != 0 {
		t.Fatalf("stats --url %v: exit %d: %s", args, synced.code, synced.stderr)
	}
	if !bytes.Equal(res.stdout, synced.stdout) {
		t.Errorf("stats %v through the archive:\n%s\nthrough the synced database:\n%s", args, res.stdout, synced.stdout)
	}
	return res.stdout
}

// costsOf is the JSON output's cost by model, one "model sessions
// reported/estimated tokens" line each, for reading failures.
func costsOf(t *testing.T, out []byte) string {
	t.Helper()
	var st report.Stats
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var lines []string
	for _, m := range st.CostByModel {
		lines = append(lines, str(m.Model)+" "+i64(&m.Sessions)+" "+f64(m.ReportedCostUSD)+"/"+f64(m.EstimatedCostUSD)+" "+
			i64(&m.Input)+"/"+i64(&m.Output)+"/"+i64(&m.CacheWrite)+"/"+i64(&m.CacheRead))
	}
	return strings.Join(lines, "; ")
}

// TestStatsUsageTableSameFigures: stats through the archive and through a
// synced database print the same, text and JSON, whole and over a range,
// with sessions of every kind; by model, each session's usage counts by
// one rule only: modelUsage where given, else the result lines' totals,
// else the messages.
func TestStatsUsageTableSameFigures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	importLines(t, f.work, usageKindLines)
	for _, args := range [][]string{{}, {"--json", "--since", "2025-12-21", "--until", "2025-12-22"}} {
		statsTwoWays(t, f.work, args...)
	}
	out := statsTwoWays(t, f.work, "--json")
	got := costsOf(t, out)
	want := strings.Join([]string{
		// S1's haiku; S3's, estimated at 0.00035; C2 at 9 × $1 + 90 × $5 +
		// 900 × $0.10 per million = 0.000549; AB's, reported 0.001 in its
		// modelUsage, so not estimated.
		"claude-haiku-4-5-20251001 4 0.051000/0.000899 130/242/0/900",
		// S1, S5 (no tokens: under its model), S6 and AB. AB counts once,
		// from its modelUsage (3/30/0/300), not its message too; it
		// reported no total, so its opus row, without a cost of its own,
		// is estimated: 3 × $5 + 30 × $25 + 300 × $0.50 per million.
		"claude-opus-4-5-20251101 4 0.470000/0.000915 88/980/2000/10300",
		// S2, S3, C1 (reported from its totals).
		"claude-sonnet-4-5-20250929 3 0.170000/0.040800 1217/970/4700/12000",
		"claude-fable-5-1 1 null/null 30/40/0/0",
	}, "; ")
	if got != want {
		t.Errorf("cost by model:\n got %s\nwant %s", got, want)
	}
	var rows int
	db, err := record.OpenReadOnly(t.Context(), archiveOf(f.work))
	if err != nil {
		t.Fatal(err)
	}
	err = db.QueryRowContext(t.Context(), "SELECT count(DISTINCT session_id) FROM "+record.UsageTable).Scan(&rows)
	db.Close()
	if err != nil || rows != 8 {
		t.Errorf("usage table holds %d sessions (%v), want all 9 but S5, which used no tokens", rows, err)
	}
}

// TestStatsFollowsSessions: a repeated stats takes in what changed since
// the last: a session file that grew while `convlog tee` wrote it (its
// usage first from its messages, then from its result line), and a new
// session. Each time, the usage table gives what the messages give.
func TestStatsFollowsSessions(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	dir := filepath.Join(work, ".turso", "sessions")
	fixture := func(name string) string { return mustAbs(t, filepath.Join("testdata", "analytics", name+".jsonl")) }
	if res := runConvlog(t, work, nil, nil, "import", fixture("s3-transcript-two-models")); res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}
	steps := []string{costsOf(t, statsTwoWays(t, work, "--json"))}

	b, err := os.ReadFile(fixture("s1-opus-success"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	tee := startLiveTee(t, dir, "grow")
	for _, l := range lines[:len(lines)-1] {
		tee.stdin.Write(l)
	}
	pollSession(t, tee.path, messagesAtLeast(int64(len(lines)-1)))
	steps = append(steps, costsOf(t, statsTwoWays(t, work, "--json")))

	tee.stdin.Write(append(lines[len(lines)-1], '\n'))
	tee.stdin.Close()
	if err := tee.cmd.Wait(); err != nil {
		t.Fatalf("tee: %v\n%s", err, tee.stderr.String())
	}
	steps = append(steps, costsOf(t, statsTwoWays(t, work, "--json")))

	if res := runConvlog(t, work, nil, nil, "import", fixture("s6-opus-short")); res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}
	steps = append(steps, costsOf(t, statsTwoWays(t, work, "--json")))
	statsTwoWays(t, work)

	sonnet := "claude-sonnet-4-5-20250929 1 null/0.040800 1200/800/4000/4000"
	want := []string{
		// S3 alone: its messages.
		"claude-haiku-4-5-20251001 1 null/0.000350 100/50/0/0; " + sonnet,
		// S1 without its result line: its six messages, all opus, 10/10
		// each, estimated at $5 and $25 per million.
		"claude-haiku-4-5-20251001 1 null/0.000350 100/50/0/0; claude-opus-4-5-20251101 1 null/0.001800 60/60/0/0; " + sonnet,
		// With it: its modelUsage, opus and haiku, reported.
		"claude-haiku-4-5-20251001 2 0.050000/0.000350 120/150/0/0; claude-opus-4-5-20251101 1 0.450000/null 80/900/2000/10000; " + sonnet,
		// And S6.
		"claude-haiku-4-5-20251001 2 0.050000/0.000350 120/150/0/0; claude-opus-4-5-20251101 2 0.470000/null 85/950/2000/10000; " + sonnet,
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d: cost by model\n got %s\nwant %s", i, steps[i], want[i])
		}
	}
}
