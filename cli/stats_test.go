package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/report"
)

func statsOf(t *testing.T, work string, args ...string) *report.Stats {
	t.Helper()
	res := runConvlog(t, work, nil, nil, append([]string{"stats", "--json"}, args...)...)
	if res.code != 0 || len(res.stderr) != 0 {
		t.Fatalf("stats %v: exit %d: %s", args, res.code, res.stderr)
	}
	var st report.Stats
	if err := json.Unmarshal(res.stdout, &st); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	return &st
}

func f64(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%.6f", *p)
}

func i64(p *int64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// TestStatsFigures checks `convlog stats --json` over the fixture set (see
// analytics_test.go) against figures worked out by hand.
func TestStatsFigures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := statsOf(t, f.work)
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %s, want %s", what, got, want)
		}
	}
	check("overview", fmt.Sprintf("%d %d %d %d %s %s", st.Sessions, st.Incomplete, st.Messages, st.ToolCalls, str(st.First), str(st.Last)),
		"6 1 52 18 2025-12-20T10:00:00.000Z 2025-12-22T10:00:00.000Z")

	// Days: avg duration over sessions with one (S5 has none).
	var days []string
	for _, d := range st.ByDay {
		days = append(days, fmt.Sprintf("%s %d %s %d %d", str(d.Day), d.Sessions, f64(d.AvgDurationMS), d.Messages, d.ToolCalls))
	}
	check("by day", strings.Join(days, "; "),
		"2025-12-22 2 20000.000000 11 3; 2025-12-21 2 305000.000000 13 3; 2025-12-20 2 65000.000000 28 12")

	var results []string
	for _, r := range st.Results {
		results = append(results, fmt.Sprintf("%s/%s %d %.2f", r.ResultType, str(r.ResultSubtype), r.Sessions, r.Percentage))
	}
	check("results", strings.Join(results, "; ")+fmt.Sprintf("; none %d", st.NoResult),
		"result/success 2 66.67; result/error_max_turns 1 33.33; none 3")

	// A session counts under every model it used, as in the cost by model:
	// opus S1, S5 (no usage: its own model) and S6, (100+20)/2 s,
	// (13+5+6)/3 messages, (5+2+1)/3 tools; haiku S1 (its modelUsage) and
	// S3, (100+600)/2 s, (13+9)/2 messages, (5+3)/2 tools.
	var models []string
	for _, m := range st.ByModel {
		models = append(models, fmt.Sprintf("%s %d %s %s %s", str(m.Model), m.Sessions, f64(m.AvgDurationMS), f64(m.AvgMessages), f64(m.AvgToolCalls)))
	}
	check("by model", strings.Join(models, "; "),
		"claude-opus-4-5-20251101 3 60000.000000 8.000000 2.666667; claude-haiku-4-5-20251001 2 350000.000000 11.000000 4.000000; "+
			"claude-sonnet-4-5-20250929 2 315000.000000 12.000000 5.000000; claude-fable-5-1 1 10000.000000 4.000000 0.000000")

	// Bash: 12 calls = 66.67 % of 18; 8 ok, 3 errors (25 %), 1 pending; 11
	// timed, 13600/11 ms on average, p50 rank 6 = 600, p95 rank 11 = 4000.
	var tools []string
	for _, c := range st.Tools {
		tools = append(tools, fmt.Sprintf("%s %d %.2f %d/%d/%d %.2f %d %s %s %s %s", str(c.ToolName), c.Calls, c.Percentage,
			c.Successes, c.Errors, c.Pending, c.ErrorRatePct, c.Timed, f64(c.AvgDurationMS), i64(c.P50DurationMS), i64(c.P95DurationMS), i64(c.MaxDurationMS)))
	}
	check("tools", strings.Join(tools, "; "), strings.Join([]string{
		"Bash 12 66.67 8/3/1 25.00 11 1236.363636 600 4000 4000",
		"Grep 3 16.67 2/1/0 33.33 3 2000.000000 2000 3000 3000",
		"Read 2 11.11 2/0/0 0.00 2 600.000000 500 700 700",
		"Edit 1 5.56 0/0/1 0.00 0 null null null null",
	}, "; "))

	var slow []string
	for _, s := range st.Slowest {
		slow = append(slow, fmt.Sprintf("%s %d", f.labels.Replace(s.ID), s.DurationMS))
	}
	check("slowest", strings.Join(slow, " "), "S3 600000 S1 100000 S2 30000 S6 20000 S4 10000")

	// Estimates: S3 at list prices, sonnet 1200 × $3 + 800 × $15 + 4000
	// one-hour writes × $6 + 4000 reads × $0.30 = $0.0408 per million… that is
	// 0.0036 + 0.012 + 0.024 + 0.0012 = 0.0408; haiku 100 × $1 + 50 × $5 =
	// 0.00035. S4's model has no price; S5 has no tokens.
	cost := func(c report.CostFigures) string {
		return fmt.Sprintf("%d %s/%d %s/%d u%d %d/%d/%d/%d", c.Sessions, f64(c.ReportedCostUSD), c.ReportedSessions,
			f64(c.EstimatedCostUSD), c.EstimatedSessions, c.UnpricedSessions, c.Input, c.Output, c.CacheWrite, c.CacheRead)
	}
	var byDay []string
	for _, d := range st.CostByDay {
		byDay = append(byDay, str(d.Day)+" "+cost(d.CostFigures))
	}
	check("cost by day", strings.Join(byDay, "; "), strings.Join([]string{
		"2025-12-22 2 0.020000/1 null/0 u0 5/50/0/0",
		"2025-12-21 2 null/0 0.041150/1 u1 1330/890/4000/4000",
		"2025-12-20 2 0.600000/2 null/0 u0 110/1100/2000/11000",
	}, "; "))
	var byModel []string
	for _, m := range st.CostByModel {
		byModel = append(byModel, str(m.Model)+" "+cost(m.CostFigures))
	}
	check("cost by model", strings.Join(byModel, "; "), strings.Join([]string{
		// S1, S5 (no tokens, under its model) and S6.
		"claude-opus-4-5-20251101 3 0.470000/2 null/0 u0 85/950/2000/10000",
		"claude-haiku-4-5-20251001 2 0.050000/1 0.000350/1 u0 120/150/0/0",
		"claude-sonnet-4-5-20250929 2 0.100000/1 0.040800/1 u0 1210/900/4000/5000",
		"claude-fable-5-1 1 null/0 null/0 u1 30/40/0/0",
	}, "; "))
	// The total is the sum of the days (and of the models, counting each
	// session once): S1 0.50 + S2 0.10 + S6 0.02 reported; S3 estimated;
	// S4 unpriced.
	check("cost total", cost(st.CostTotal), "6 0.620000/3 0.041150/1 u1 1445/2040/6000/15000")
	if e := st.CostByDay[1].EstimatedCostUSD; e == nil || math.Abs(*e-0.04115) > 1e-12 {
		t.Errorf("estimate of 2025-12-21: %v", e)
	}
	check("prices", fmt.Sprintf("%s %v", st.Prices.AsOf, st.Prices.UnpricedModels), report.PricesAsOf+" [claude-fable-5-1]")
}

// TestStatsRange: --since and --until by day (UTC, --until inclusive), by
// an RFC 3339 time, and by age.
func TestStatsRange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []struct {
		args []string
		want string // sessions, tool calls, first day
	}{
		{[]string{"--since", "2025-12-21", "--until", "2025-12-21"}, "2 3 2025-12-21"},
		{[]string{"--since", "2025-12-21"}, "4 6 2025-12-22"},
		{[]string{"--until", "2025-12-20"}, "2 12 2025-12-20"},
		{[]string{"--since", "2025-12-22T09:00:00Z"}, "1 1 2025-12-22"},
		{[]string{"--until", "2025-12-22T08:00:00Z"}, "5 17 2025-12-22"}, // S5 started at that instant
		{[]string{"--since", "7d"}, "0 0 -"},
	} {
		st := statsOf(t, f.work, c.args...)
		day := "-"
		if len(st.ByDay) > 0 {
			day = str(st.ByDay[0].Day)
		}
		if got := fmt.Sprintf("%d %d %s", st.Sessions, st.ToolCalls, day); got != c.want {
			t.Errorf("%v: %s, want %s", c.args, got, c.want)
		}
	}
	res := runConvlog(t, f.work, nil, nil, "stats", "--since", "last tuesday")
	if res.code != 2 || !strings.Contains(string(res.stderr), `--since: "last tuesday" is not a date`) {
		t.Errorf("bad date: exit %d %s", res.code, res.stderr)
	}
}

func TestParseBound(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		s    string
		end  bool
		want time.Time
	}{
		{"2025-12-21", false, time.Date(2025, 12, 21, 0, 0, 0, 0, time.UTC)},
		{"2025-12-21", true, time.Date(2025, 12, 22, 0, 0, 0, 0, time.UTC)},
		{"2025-12-21T10:00:00+01:00", false, time.Date(2025, 12, 21, 9, 0, 0, 0, time.UTC)},
		{"2025-12-21T10:00:00Z", true, time.Date(2025, 12, 21, 10, 0, 0, int(time.Millisecond), time.UTC)},
		{"7d", false, now.Add(-7 * 24 * time.Hour)},
		{"2w", true, now.Add(-14 * 24 * time.Hour)},
		{"90m", false, now.Add(-90 * time.Minute)},
	} {
		got, err := parseBound(c.s, now, c.end)
		if err != nil || got != c.want.UnixMilli() {
			t.Errorf("%s (end %v): %v %v, want %v", c.s, c.end, time.UnixMilli(got).UTC(), err, c.want)
		}
	}
	for _, s := range []string{"yesterday", "12/21/2025", "-3d", "3y"} {
		if _, err := parseBound(s, now, false); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestStatsText compares the report for people with a golden file.
func TestStatsText(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res := runConvlog(t, f.work, nil, nil, "stats")
	if res.code != 0 || len(res.stderr) != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	queryGolden(t, "stats/fixture.txt", []byte(f.labels.Replace(string(res.stdout))))
}

func TestPriceOf(t *testing.T) {
	for model, want := range map[string]float64{
		"claude-opus-4-5-20251101":                     5,
		"claude-opus-4-1-20250805":                     15,
		"claude-opus-4-20250514":                       15,
		"claude-sonnet-4-5-20250929":                   3,
		"claude-sonnet-4-20250514":                     3,
		"claude-3-7-sonnet-20250219":                   3,
		"claude-haiku-4-5-20251001":                    1,
		"claude-3-5-haiku-20241022":                    0.8,
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0": 3,
		"claude-opus-4-5@20251101":                     5,
		"opus":                                         5,
		"claude-fable-5-1":                             -1,
		"gpt-5":                                        1.25,
		"":                                             -1,
	} {
		p, ok := report.PriceOf(model)
		got := p.Input
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("%q: input price %v, want %v", model, got, want)
		}
	}
	// Opus 4.5: 1M of each kind, half of the writes to the one-hour cache.
	p, _ := report.PriceOf("claude-opus-4-5")
	c := p.Cost(report.TokenCounts{Input: 1e6, Output: 1e6, CacheWrite: 2e6, CacheWrite1h: 1e6, CacheRead: 1e6})
	if want := 5 + 25 + 6.25 + 10 + 0.5; math.Abs(c-want) > 1e-9 {
		t.Errorf("cost %v, want %v", c, want)
	}
}
