package cli

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// The fixture set of the analytics tests: six sessions in testdata/analytics,
// five imported by the real binary and one written by record.Writer and
// abandoned as a killed logger leaves it. Every figure the tests expect is
// worked out by hand from these files:
//
//	S1  stream-json, claude-opus-4-5, result/success, 2025-12-20 10:00:00 → 10:01:40 (100 s)
//	    13 messages (system 1, assistant 6, user 5, result 1); tools Bash ×4
//	    (1000, 2000, 3000 error, 4000 ms) and Read 500 ms; cost 0.50 reported;
//	    tokens from the result line 100/1000/2000/10000 (input/output/cache
//	    write/cache read); modelUsage: opus 80/900/2000/10000 $0.45, haiku-4-5
//	    20/100/0/0 $0.05.
//	S2  stream-json, claude-sonnet-4-5, result/error_max_turns, 2025-12-20 12:00:00 → 12:00:30 (30 s)
//	    15 messages (system 1, assistant 7, user 6, result 1); Bash ×6 (100 … 600
//	    ms, errors at 200 and 500) and Edit pending; cost 0.10; tokens
//	    10/100/0/1000, all sonnet.
//	S3  transcript, sonnet and haiku-4-5, no result line, 2025-12-21 09:00:00 → 09:10:00 (600 s)
//	    9 messages (user 4, assistant 5); Grep ×3 (1000, 3000 error, 2000 ms); no
//	    cost; usage once per message id, last line: msg_s3_1 sonnet
//	    1000/500/4000 (all one-hour cache)/0, msg_s3_2 sonnet 200/300/0/4000,
//	    msg_s3_3 haiku 100/50/0/0, msg_s3_4 sonnet 0/0/0/0 → 1300/850/4000/4000.
//	S4  stream-json, claude-fable-5-1 (no known price), no result, 2025-12-21 15:00:00 → 15:00:10 (10 s)
//	    4 messages (system 1, assistant 2, one non-JSON line: error 1); no tools;
//	    usage 10/10 + 20/30 → 30/40/0/0.
//	S5  claude-opus-4-5, logger killed: started 2025-12-22 08:00:00, no end
//	    5 messages (system 1, user 2, assistant 2); Bash 1500 ms and Bash
//	    pending; no usage.
//	S6  stream-json, claude-opus-4-5, result/success, 2025-12-22 10:00:00 → 10:00:20 (20 s)
//	    6 messages (system 2, assistant 2, user 1, result 1); Read 700 ms;
//	    cost 0.02; tokens 5/50/0/0, all opus.
//
// Totals: 52 messages (assistant 24, user 18, system 6, result 3, error 1);
// 18 tool calls (Bash 12, Grep 3, Read 2, Edit 1).

// fixtureLabels maps each fixture session's agent session id to its label.
var fixtureLabels = map[string]string{"fx-s1": "S1", "fx-s2": "S2", "fx-s3": "S3", "fx-s4": "S4", "fx-s5": "S5", "fx-s6": "S6"}

// fixture is a working folder with the fixture set in .turso/sessions.
type fixture struct {
	work, dir string
	labels    *strings.Replacer // session id → S1 … S6
	ids       map[string]string // S1 … S6 → session id
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	work := t.TempDir()
	f := &fixture{work: work, dir: filepath.Join(work, ".turso", "sessions"), ids: map[string]string{}}
	var files []string
	for _, n := range []string{"s1-opus-success", "s2-sonnet-max-turns", "s3-transcript-two-models", "s4-fable-no-result", "s6-opus-short"} {
		files = append(files, mustAbs(t, filepath.Join("testdata", "analytics", n+".jsonl")))
	}
	res := runConvlog(t, work, nil, nil, append([]string{"import"}, files...)...)
	if res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "analytics", "s5-opus-killed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	writeGoldenSession(t, f.dir, record.Meta{ID: "fx-s5"}, bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")), 0)

	var pairs []string
	for _, p := range sessionFiles(t, f.dir) {
		s, err := record.ReadSession(t.Context(), p)
		if err != nil || s.AgentSessionID == nil {
			t.Fatalf("%s: %v", p, err)
		}
		label := fixtureLabels[*s.AgentSessionID]
		f.ids[label] = s.ID
		pairs = append(pairs, s.ID, label)
	}
	if len(f.ids) != 6 {
		t.Fatalf("fixture sessions: %v", f.ids)
	}
	f.labels = strings.NewReplacer(pairs...)
	return f
}

// table turns TSV output into the "a|b|c" lines written below, with
// session ids replaced by their labels.
func (f *fixture) table(tsv []byte) string {
	return f.labels.Replace(strings.ReplaceAll(string(tsv), "\t", "|"))
}

// analyticsWant is what each query in scripts/analytics returns over the
// whole fixture set, as `convlog sql --tsv` prints it (NULL is empty, a
// REAL keeps its decimal point).
var analyticsWant = map[string]string{
	// avg_duration_seconds = AVG(duration_ms)/1000 over the sessions with one:
	// 12-22: S6 20 s (S5 has none); 12-21: (600 + 10)/2 = 305; 12-20: (100 + 30)/2 = 65.
	"sessions_by_date.sql": `day|session_count|avg_duration_seconds
2025-12-22|2|20.0
2025-12-21|2|305.0
2025-12-20|2|65.0
`,
	// Three sessions have a result: success S1, S6 (2/3 = 66.67 %), error_max_turns S2 (33.33 %).
	"success_rate_by_result.sql": `result_type|result_subtype|count|percentage
result|success|2|66.67
result|error_max_turns|1|33.33
`,
	// opus S1, S5, S6: duration (100 + 20)/2 = 60 s, messages (13+5+6)/3 = 8, tools (5+2+1)/3 = 2.667;
	// sonnet S2, S3: (30 + 600)/2 = 315 s, (15+9)/2 = 12, (7+3)/2 = 5; fable S4: 10 s, 4, 0.
	"sessions_by_model.sql": `model|total_sessions|avg_duration_seconds|avg_messages|avg_tool_calls
claude-opus-4-5-20251101|3|60.0|8.0|2.66666666666667
claude-sonnet-4-5-20250929|2|315.0|12.0|5.0
claude-fable-5-1|1|10.0|4.0|0.0
`,
	// By duration, longest first; S5 has none and sorts last.
	"longest_sessions.sql": `id|model|duration_seconds|total_messages|total_tool_calls|started
S3|claude-sonnet-4-5-20250929|600|9|3|2025-12-21 09:00:00
S1|claude-opus-4-5-20251101|100|13|5|2025-12-20 10:00:00
S2|claude-sonnet-4-5-20250929|30|15|7|2025-12-20 12:00:00
S6|claude-opus-4-5-20251101|20|6|1|2025-12-22 10:00:00
S4|claude-fable-5-1|10|4|0|2025-12-21 15:00:00
S5|claude-opus-4-5-20251101||5|2|2025-12-22 08:00:00
`,
	// Newest first; only S5, written as tee writes, has a mode (imports leave it NULL).
	"recent_sessions.sql": `id|model|mode|duration_sec|msgs|tools|result_type|started
S6|claude-opus-4-5-20251101||20|6|1|result|2025-12-22 10:00:00
S5|claude-opus-4-5-20251101|auto||5|2||2025-12-22 08:00:00
S4|claude-fable-5-1||10|4|0||2025-12-21 15:00:00
S3|claude-sonnet-4-5-20250929||600|9|3||2025-12-21 09:00:00
S2|claude-sonnet-4-5-20250929||30|15|7|result|2025-12-20 12:00:00
S1|claude-opus-4-5-20251101||100|13|5|result|2025-12-20 10:00:00
`,
	// Only the killed S5 has no end (columns id and ended_at of SELECT *).
	"incomplete_sessions.sql": `id|ended_at
S5|
`,
	// 18 calls: Bash 12 (66.67 %), Grep 3 (16.67 %), Read 2 (11.11 %), Edit 1 (5.56 %).
	"tool_usage.sql": `tool_name|call_count|percentage
Bash|12|66.67
Grep|3|16.67
Read|2|11.11
Edit|1|5.56
`,
	// Only Bash has 10 calls or more: S1 3 ok + 1 error, S2 4 + 2, S5 1 ok + 1 pending → 3/12 = 25 %.
	"tool_error_rates.sql": `tool_name|total_calls|errors|successes|error_rate_pct
Bash|12|3|8|25.0
`,
	// Timed calls only: Grep (1000+3000+2000)/3 = 2000; Bash (1000+2000+3000+4000
	// + 100+200+300+400+500+600 + 1500)/11 = 13600/11; Read (500+700)/2 = 600.
	"tool_durations.sql": `tool_name|call_count|avg_duration_ms|min_duration_ms|max_duration_ms
Grep|3|2000.0|1000|3000
Bash|11|1236.36363636364|100|4000
Read|2|600.0|500|700
`,
	// Bash sorted: 100 200 300 400 500 600 1000 1500 2000 3000 4000 (n = 11):
	// p50 is rank ⌈5.5⌉ = 6 → 600, p95 rank ⌈10.45⌉ = 11 → 4000. Grep 1000 2000
	// 3000: ranks 2 and 3. Read 500 700: ranks 1 and 2.
	"tool_duration_percentiles.sql": `tool_name|timed_calls|p50_duration_ms|p95_duration_ms|max_duration_ms
Bash|11|600|4000|4000
Grep|3|2000|3000|3000
Read|2|500|700|700
`,
	// All 18 calls (fewer than 20), newest tool_use first.
	"recent_tool_calls.sql": `tool_name|status|called_at|session_id
Read|success|2025-12-22 10:00:05|S6
Bash|pending|2025-12-22 08:00:20|S5
Bash|success|2025-12-22 08:00:10|S5
Grep|success|2025-12-21 09:05:00|S3
Grep|error|2025-12-21 09:01:00|S3
Grep|success|2025-12-21 09:00:06|S3
Edit|pending|2025-12-20 12:00:25|S2
Bash|success|2025-12-20 12:00:18|S2
Bash|error|2025-12-20 12:00:15|S2
Bash|success|2025-12-20 12:00:12|S2
Bash|success|2025-12-20 12:00:09|S2
Bash|error|2025-12-20 12:00:06|S2
Bash|success|2025-12-20 12:00:03|S2
Read|success|2025-12-20 10:00:50|S1
Bash|success|2025-12-20 10:00:40|S1
Bash|error|2025-12-20 10:00:30|S1
Bash|success|2025-12-20 10:00:20|S1
Bash|success|2025-12-20 10:00:10|S1
`,
	// GROUP_CONCAT's order is not defined: the tools are compared sorted.
	"tools_by_session.sql": `session_id|model|tool_count|tools_used
S2|claude-sonnet-4-5-20250929|7|Bash,Edit
S1|claude-opus-4-5-20251101|5|Bash,Read
S3|claude-sonnet-4-5-20250929|3|Grep
S5|claude-opus-4-5-20251101|2|Bash
S6|claude-opus-4-5-20251101|1|Read
S4|claude-fable-5-1|0|
`,
	// Of 52: 24/52 = 46.15 %, 18/52 = 34.62 %, 6/52 = 11.54 %, 3/52 = 5.77 %, 1/52 = 1.92 %.
	"message_types.sql": `type|message_count|percentage
assistant|24|46.15
user|18|34.62
system|6|11.54
result|3|5.77
error|1|1.92
`,
	// (13 + 15 + 9 + 4 + 5 + 6)/6 = 52/6.
	"messages_per_session.sql": `avg_messages_per_session|min_messages|max_messages
8.66666666666667|4|15
`,
	"sessions_most_messages.sql": `id|model|total_messages|duration_sec|started
S2|claude-sonnet-4-5-20250929|15|30|2025-12-20 12:00:00
S1|claude-opus-4-5-20251101|13|100|2025-12-20 10:00:00
S3|claude-sonnet-4-5-20250929|9|600|2025-12-21 09:00:00
S6|claude-opus-4-5-20251101|6|20|2025-12-22 10:00:00
S5|claude-opus-4-5-20251101|5||2025-12-22 08:00:00
S4|claude-fable-5-1|4|10|2025-12-21 15:00:00
`,
	// Average tool duration over timed calls: S1 (1000+2000+3000+4000+500)/5 =
	// 2100, S2 2100/6 = 350 (Edit is pending), S3 2000, S5 1500, S6 700.
	"session_report.sql": `id|model|mode|duration_sec|total_messages|total_tool_calls|unique_tools|avg_tool_duration_ms|result_type|started
S6|claude-opus-4-5-20251101||20|6|1|1|700.0|result|2025-12-22 10:00:00
S5|claude-opus-4-5-20251101|auto||5|2|1|1500.0||2025-12-22 08:00:00
S4|claude-fable-5-1||10|4|0|0|||2025-12-21 15:00:00
S3|claude-sonnet-4-5-20250929||600|9|3|1|2000.0||2025-12-21 09:00:00
S2|claude-sonnet-4-5-20250929||30|15|7|2|350.0|result|2025-12-20 12:00:00
S1|claude-opus-4-5-20251101||100|13|5|2|2100.0|result|2025-12-20 10:00:00
`,
	// 12-22: messages 6 + 5, tools 1 + 2; 12-21: 9 + 4, 3 + 0; 12-20: 13 + 15, 5 + 7.
	"daily_aggregates.sql": `day|sessions|total_messages|total_tool_calls|avg_duration_sec
2025-12-22|2|11|3|20.0
2025-12-21|2|13|3|305.0
2025-12-20|2|28|12|65.0
`,
	// 12-22: S6 0.02 (S5 reports none and has no tokens); 12-21: S3 and S4
	// report none, tokens 1300+30 / 850+40 / 4000 / 4000; 12-20: 0.50 + 0.10,
	// 100+10 / 1000+100 / 2000+0 / 10000+1000.
	"cost_tokens_by_day.sql": `day|sessions|reported_cost_usd|sessions_without_cost|input_tokens|output_tokens|cache_creation_input_tokens|cache_read_input_tokens
2025-12-22|2|0.02|1|5|50|0|0
2025-12-21|2||2|1330|890|4000|4000
2025-12-20|2|0.6|0|110|1100|2000|11000
`,
	// haiku: S1 modelUsage 20/100 $0.05 + S3 msg_s3_3 100/50; opus: S1 80/900/2000/10000
	// $0.45 + S6 5/50 $0.02; sonnet: S2 10/100/0/1000 $0.10 + S3 msg_s3_1,2,4
	// 1200/800/4000 (one-hour)/4000; fable: S4 30/40. S5 has no usage at all
	// and counts under its model, opus, without a cost.
	"cost_tokens_by_model.sql": `model|sessions|reported_cost_usd|sessions_without_cost|input_tokens|output_tokens|cache_creation_input_tokens|cache_creation_1h_tokens|cache_read_input_tokens
claude-opus-4-5-20251101|3|0.47|1|85|950|2000|0|10000
claude-haiku-4-5-20251001|2|0.05|1|120|150|0|0|0
claude-sonnet-4-5-20250929|2|0.1|1|1210|900|4000|4000|5000
claude-fable-5-1|1||1|30|40|0|0|0
`,
}

// normalize makes the output of query comparable with analyticsWant: only
// the wanted columns where they are fewer (SELECT *), and sorted lists
// where SQL leaves their order open.
func normalize(query, got, want string) string {
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	wantCols := strings.Split(strings.SplitN(want, "\n", 2)[0], "|")
	head := strings.Split(lines[0], "|")
	if len(wantCols) < len(head) {
		var idx []int
		for _, c := range wantCols {
			idx = append(idx, slices.Index(head, c))
		}
		for i, l := range lines {
			cells := strings.Split(l, "|")
			var keep []string
			for _, j := range idx {
				if j >= 0 && j < len(cells) {
					keep = append(keep, cells[j])
				}
			}
			lines[i] = strings.Join(keep, "|")
		}
	}
	if query == "tools_by_session.sql" {
		for i := 1; i < len(lines); i++ {
			cells := strings.Split(lines[i], "|")
			tools := strings.Split(cells[len(cells)-1], ",")
			slices.Sort(tools)
			cells[len(cells)-1] = strings.Join(tools, ",")
			lines[i] = strings.Join(cells, "|")
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func analyticsFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "scripts", "analytics", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts/analytics/*.sql: %v", err)
	}
	return files
}

// TestAnalyticsQueries runs every query in scripts/analytics, unchanged,
// over the fixture set three ways: through `convlog sql` (the local
// archive), against the libSQL server the sessions were synced to, and
// against a single session file as sqlite3 would.
func TestAnalyticsQueries(t *testing.T) {
	f := newFixture(t)
	srv := testkit.Start(t)
	if r := runConvlog(t, f.work, nil, creds(srv.URL), "sync", "--all"); r.code != 0 {
		t.Fatalf("sync: exit %d: %s", r.code, r.stderr)
	}
	one, err := record.OpenReadOnly(t.Context(), filepath.Join(f.dir, f.ids["S1"]+".db"))
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()

	files := analyticsFiles(t)
	for _, path := range files {
		name := filepath.Base(path)
		want, ok := analyticsWant[name]
		if !ok {
			t.Errorf("%s: no expected result in analyticsWant", name)
			continue
		}
		query, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			local := runConvlog(t, f.work, query, nil, "sql", "--tsv")
			if local.code != 0 || len(local.stderr) != 0 {
				t.Fatalf("convlog sql: exit %d: %s", local.code, local.stderr)
			}
			if got := normalize(name, f.table(local.stdout), want); got != want {
				t.Errorf("over the archive:\n%s\nwant:\n%s", got, want)
			}
			remote := runConvlog(t, f.work, query, creds(srv.URL), "sql", "--tsv", "--url", srv.URL)
			if remote.code != 0 || len(remote.stderr) != 0 {
				t.Fatalf("convlog sql --url: exit %d: %s", remote.code, remote.stderr)
			}
			if got := normalize(name, f.table(remote.stdout), want); got != want {
				t.Errorf("on the libSQL server:\n%s\nwant:\n%s", got, want)
			}
			rows, err := one.QueryContext(t.Context(), string(query))
			if err != nil {
				t.Fatalf("on one session file: %v", err)
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				t.Errorf("on one session file: %v", err)
			}
			rows.Close()
		})
	}
	if len(files) != len(analyticsWant) {
		t.Errorf("%d query files, %d expected results", len(files), len(analyticsWant))
	}
	// One query on the single file, figure by figure: S1 alone.
	var day string
	var n int64
	var avg float64
	if err := one.QueryRowContext(t.Context(), mustRead(t, "../scripts/analytics/sessions_by_date.sql")).Scan(&day, &n, &avg); err != nil ||
		day != "2025-12-20" || n != 1 || avg != 100 {
		t.Errorf("sessions_by_date on S1's file: %s %d %v %v", day, n, avg, err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStatsMatchCostScripts checks that convlog stats and the cost scripts
// count tokens the same way: the by-model figures of both, over the
// fixture set.
func TestStatsMatchCostScripts(t *testing.T) {
	f := newFixture(t)
	res := runConvlog(t, f.work, nil, nil, "sql", "--tsv", "SELECT 1")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	db, err := record.OpenReadOnly(t.Context(), filepath.Join(f.work, ".turso", "convlog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := report.CollectStats(context.Background(), db, report.StatsRange{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(t.Context(), mustRead(t, "../scripts/analytics/cost_tokens_by_model.sql"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var model string
		var sessions, without, in, out, cw, cw1h, cr int64
		var cost sql.NullFloat64
		if err := rows.Scan(&model, &sessions, &cost, &without, &in, &out, &cw, &cw1h, &cr); err != nil {
			t.Fatal(err)
		}
		if i >= len(st.CostByModel) {
			t.Fatalf("stats has %d models, the script more", len(st.CostByModel))
		}
		m := st.CostByModel[i]
		if *m.Model != model || m.Sessions != sessions || m.Input != in || m.Output != out || m.CacheWrite != cw || m.CacheRead != cr {
			t.Errorf("model %d: stats %+v, script %s %d %d/%d/%d/%d", i, m, model, sessions, in, out, cw, cr)
		}
	}
	if i != len(st.CostByModel) {
		t.Errorf("script %d models, stats %d", i, len(st.CostByModel))
	}
}
