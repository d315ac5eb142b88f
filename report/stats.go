package report

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Querier is what the statistics need of a database: a local *sql.DB or a
// remote one.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// StatsRange limits the statistics to sessions that started at or after
// Since and before Until (Unix ms; 0 leaves that end open). Sessions whose
// start is not known count only when both ends are open.
type StatsRange struct {
	Since, Until int64
}

// Stats is the seed's analytics over many sessions, as `convlog stats`
// prints them. Every figure is computed by SQL over the three tables, so
// the same numbers come from the queries in scripts/analytics.
type Stats struct {
	Since      *string `json:"since"` // ISO 8601, or null for no limit
	Until      *string `json:"until"` // exclusive
	Sessions   int64   `json:"sessions"`
	Incomplete int64   `json:"incomplete"` // no recorded end: running, or the logger was killed
	FirstAt    *int64  `json:"first_started_at"`
	First      *string `json:"first_started"`
	LastAt     *int64  `json:"last_started_at"`
	Last       *string `json:"last_started"`
	Messages   int64   `json:"total_messages"`
	ToolCalls  int64   `json:"total_tool_calls"`

	ByDay    []DayStats    `json:"by_day"`
	Results  []ResultStats `json:"results"`
	NoResult int64         `json:"sessions_without_result"`
	ByModel  []ModelStats  `json:"by_model"`
	ByAgent  []AgentStats  `json:"by_agent"`
	Tools    []ToolStats   `json:"tools"`
	Slowest  []SlowSession `json:"slowest_sessions"`

	CostByDay   []DayCost   `json:"cost_by_day"`
	CostByModel []ModelCost `json:"cost_by_model"`
	CostTotal   CostFigures `json:"cost_total"`
	Prices      PriceInfo   `json:"prices"`
	// Copies are sessions left out because they log an agent session that
	// another session counted here logs too (see Copies).
	Copies []string `json:"copies"`

	agentCol string // the sessions' agent column, or NULL where there is none
}

// DayStats is the seed's "sessions by date" and "daily aggregates".
type DayStats struct {
	Day           *string  `json:"day"` // YYYY-MM-DD in UTC; null for sessions without a start time
	Sessions      int64    `json:"sessions"`
	AvgDurationMS *float64 `json:"avg_duration_ms"` // of the sessions with a duration
	Messages      int64    `json:"total_messages"`
	ToolCalls     int64    `json:"total_tool_calls"`
}

// ResultStats is the seed's "success rate by result type".
type ResultStats struct {
	ResultType    string  `json:"result_type"`
	ResultSubtype *string `json:"result_subtype"`
	Sessions      int64   `json:"sessions"`
	Percentage    float64 `json:"percentage"` // of the sessions with a result
}

// ModelStats is the seed's "sessions by model", counting each session
// under every model it used (as the cost by model does), or under its
// model when no usage is known.
type ModelStats struct {
	Model         *string  `json:"model"`
	Sessions      int64    `json:"sessions"`
	AvgDurationMS *float64 `json:"avg_duration_ms"`
	AvgMessages   *float64 `json:"avg_messages"`
	AvgToolCalls  *float64 `json:"avg_tool_calls"`
}

// AgentStats are the figures of the sessions of one agent (Claude Code,
// Gemini CLI, Codex, Cursor, opencode; null for sessions whose stream was
// not recognised, or that were logged before convlog recorded the agent).
type AgentStats struct {
	Agent         *string  `json:"agent"`
	Sessions      int64    `json:"sessions"`
	Incomplete    int64    `json:"incomplete"`
	Errors        int64    `json:"error_results"` // sessions whose result says is_error
	AvgDurationMS *float64 `json:"avg_duration_ms"`
	Messages      int64    `json:"total_messages"`
	ToolCalls     int64    `json:"total_tool_calls"`
	ToolErrors    int64    `json:"tool_errors"`
	ToolErrorPct  float64  `json:"tool_error_rate_pct"`
	// Cost and tokens, counted as for the days and models.
	Cost CostFigures `json:"cost"`
}

// ToolStats is the seed's tool usage, error rates and execution times in
// one: calls, errors, and percentiles by nearest rank over the calls with
// a known duration.
type ToolStats struct {
	ToolName      *string  `json:"tool_name"`
	Calls         int64    `json:"calls"`
	Percentage    float64  `json:"percentage"` // of all tool calls
	Successes     int64    `json:"successes"`
	Errors        int64    `json:"errors"`
	Pending       int64    `json:"pending"` // no result seen
	ErrorRatePct  float64  `json:"error_rate_pct"`
	Timed         int64    `json:"timed_calls"` // calls with a duration
	AvgDurationMS *float64 `json:"avg_duration_ms"`
	P50DurationMS *int64   `json:"p50_duration_ms"`
	P95DurationMS *int64   `json:"p95_duration_ms"`
	MaxDurationMS *int64   `json:"max_duration_ms"`
}

// SlowSession is one of the seed's "longest running sessions".
type SlowSession struct {
	ID         string  `json:"id"`
	Model      *string `json:"model"`
	DurationMS int64   `json:"duration_ms"`
	Messages   *int64  `json:"total_messages"`
	ToolCalls  *int64  `json:"total_tool_calls"`
	StartedAt  *int64  `json:"started_at"`
	Started    *string `json:"started"`
}

// CostFigures are cost and tokens of a group of sessions. Reported costs
// (from the agent's result lines) and estimated ones (from tokens and the
// price table, for sessions that reported none) are kept apart, never
// added up.
type CostFigures struct {
	Sessions          int64    `json:"sessions"`
	ReportedCostUSD   *float64 `json:"reported_cost_usd"` // null when no session reported a cost
	ReportedSessions  int64    `json:"reported_sessions"`
	EstimatedCostUSD  *float64 `json:"estimated_cost_usd"` // null when nothing was estimated
	EstimatedSessions int64    `json:"estimated_sessions"`
	// UnpricedSessions reported no cost and used a model the price table
	// does not know: their tokens are counted, their cost is not estimated.
	UnpricedSessions int64 `json:"unpriced_sessions"`
	TokenCounts
}

// DayCost is cost and tokens of the sessions that started on a day. Tokens
// are the sessions' totals (result lines win; else usage once per API
// message).
type DayCost struct {
	Day *string `json:"day"`
	CostFigures
}

// ModelCost is cost and tokens by the model that used them: per model
// from the result line's modelUsage where the agent gave it, else from the
// assistant messages (once per API message id), else the session's totals
// under its model.
type ModelCost struct {
	Model *string `json:"model"`
	CostFigures
}

// PriceInfo says which price table estimates come from.
type PriceInfo struct {
	AsOf            string   `json:"as_of"`
	Source          string   `json:"source"`
	UnpricedModels  []string `json:"unpriced_models"`
	EstimateComment string   `json:"note"`
}

const estimateNote = "estimated_cost_usd prices the tokens of sessions that reported no cost; it is never added to reported_cost_usd"

func addFloat(p *float64, v float64) *float64 {
	if p == nil {
		return &v
	}
	s := *p + v
	if math.IsInf(s, 0) {
		return p // beyond any real cost; JSON could not say it
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pct is part of whole in percent, rounded to two places as the seed's
// queries round it.
func pct(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)*100*100/float64(whole)) / 100
}

func nullStr(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

// WriteText writes the statistics for people.
func (st *Stats) WriteText(w io.Writer, color bool) error {
	t := NewText(w, color)
	if st.Sessions == 0 {
		t.printf("No sessions%s.\n", st.rangeText())
		return t.err
	}
	span := ""
	if st.First != nil && st.Last != nil {
		span = fmt.Sprintf(", started %s to %s", (*st.First)[:10], (*st.Last)[:10])
	}
	t.printf("%s%s%s: %d messages, %d tool calls", plural(st.Sessions, "session"), st.rangeText(), span, st.Messages, st.ToolCalls)
	if st.Incomplete > 0 {
		t.printf("; %d incomplete (still running, or the logger was killed)", st.Incomplete)
	}
	t.printf(".\n")
	if n := len(st.Copies); n > 0 {
		t.printf("%s not counted again: %s the same agent session as one counted here (see convlog query).\n",
			plural(int64(n), "more session"), map[bool]string{true: "it logs", false: "each logs"}[n == 1])
	}

	t.section("Sessions by day", &Table{
		Header: []string{"day", "sessions", "avg duration", "messages", "tool calls"},
		Right:  []bool{false, true, true, true, true},
		Rows: rowsOf(st.ByDay, func(d DayStats) []string {
			return []string{dayText(d.Day), itoa(d.Sessions), msText(d.AvgDurationMS), itoa(d.Messages), itoa(d.ToolCalls)}
		}),
	})

	results := rowsOf(st.Results, func(r ResultStats) []string {
		name := r.ResultType
		if r.ResultSubtype != nil {
			name += "/" + *r.ResultSubtype
		}
		return []string{OneLine(name), itoa(r.Sessions), pctText(r.Percentage)}
	})
	t.section("Results", &Table{Header: []string{"result", "sessions", "share"}, Right: []bool{false, true, true}, Rows: results})
	if st.NoResult > 0 {
		t.printf("%s no result line (transcripts, streams that ended early, sessions still running).\n", plural2(st.NoResult, "session has", "sessions have"))
	}

	t.section("Sessions by model", &Table{
		Header: []string{"model", "sessions", "avg duration", "avg messages", "avg tool calls"},
		Right:  []bool{false, true, true, true, true},
		Rows: rowsOf(st.ByModel, func(m ModelStats) []string {
			return []string{modelText(m.Model), itoa(m.Sessions), msText(m.AvgDurationMS), floatText(m.AvgMessages), floatText(m.AvgToolCalls)}
		}),
	})

	t.section("Sessions by agent", &Table{
		Header: []string{"agent", "sessions", "errors", "avg duration", "messages", "tool calls", "tool errors", "reported cost", "estimated cost", "input", "output"},
		Right:  []bool{false, true, true, true, true, true, true, true, true, true, true},
		Rows: rowsOf(st.ByAgent, func(a AgentStats) []string {
			return []string{agentText(a.Agent), itoa(a.Sessions), itoa(a.Errors), msText(a.AvgDurationMS), itoa(a.Messages),
				itoa(a.ToolCalls), itoa(a.ToolErrors), costText(a.Cost.ReportedCostUSD, ""), costText(a.Cost.EstimatedCostUSD, "~"),
				grouped(a.Cost.Input), grouped(a.Cost.Output)}
		}),
	})

	t.section("Tools", &Table{
		Header: []string{"tool", "calls", "share", "errors", "error rate", "avg", "p50", "p95", "max"},
		Right:  []bool{false, true, true, true, true, true, true, true, true},
		Rows: rowsOf(st.Tools, func(c ToolStats) []string {
			return []string{modelText(c.ToolName), itoa(c.Calls), pctText(c.Percentage), itoa(c.Errors), pctText(c.ErrorRatePct),
				msText(c.AvgDurationMS), msInt(c.P50DurationMS), msInt(c.P95DurationMS), msInt(c.MaxDurationMS)}
		}),
	})
	if len(st.Tools) > 0 {
		t.printf("Durations are from tool use to tool result; p50 and p95 by nearest rank.\n")
	}

	t.section("Slowest sessions", &Table{
		Header: []string{"id", "model", "duration", "messages", "tool calls", "started"},
		Right:  []bool{false, false, true, true, true, false},
		Rows: rowsOf(st.Slowest, func(s SlowSession) []string {
			d := float64(s.DurationMS)
			return []string{OneLine(s.ID), modelText(s.Model), msText(&d), intOrDash(s.Messages), intOrDash(s.ToolCalls), timeOr(s.StartedAt, "-")}
		}),
	})

	costHeader := []string{"sessions", "reported cost", "estimated cost", "unpriced", "input", "output", "cache write", "cache read"}
	costRight := []bool{true, true, true, true, true, true, true, true, true}
	costCells := func(f CostFigures) []string {
		unpriced := "-"
		if f.UnpricedSessions > 0 {
			unpriced = itoa(f.UnpricedSessions)
		}
		return []string{itoa(f.Sessions), costText(f.ReportedCostUSD, ""), costText(f.EstimatedCostUSD, "~"), unpriced,
			grouped(f.Input), grouped(f.Output), grouped(f.CacheWrite), grouped(f.CacheRead)}
	}
	totalRow := append([]string{"total"}, costCells(st.CostTotal)...)
	t.section("Cost and tokens by day", &Table{
		Header: append([]string{"day"}, costHeader...),
		Right:  append([]bool{false}, costRight...),
		Rows: append(rowsOf(st.CostByDay, func(d DayCost) []string { return append([]string{dayText(d.Day)}, costCells(d.CostFigures)...) }),
			totalRow),
	})
	t.section("Cost and tokens by model", &Table{
		Header: append([]string{"model"}, costHeader...),
		Right:  append([]bool{false}, costRight...),
		Rows: append(rowsOf(st.CostByModel, func(m ModelCost) []string { return append([]string{modelText(m.Model)}, costCells(m.CostFigures)...) }),
			totalRow),
	})
	t.printf("Reported cost is what the agent reported in its result lines. Estimated cost (~) prices the tokens of\n")
	t.printf("sessions that reported none (e.g. Claude Code transcripts) at list prices as of %s, each request at\n", PricesAsOf)
	t.printf("the rate it is billed at (long-context rates above 200k input tokens); the two are never added together.\n")
	t.printf("Unpriced sessions used a model without a known price. Tokens by model come from modelUsage, else the\n")
	t.printf("result lines' totals, else each API message once; a session counts under every model it used.\n")
	if len(st.Prices.UnpricedModels) > 0 {
		t.printf("No known price, so no estimate, for: %s.\n", OneLine(strings.Join(st.Prices.UnpricedModels, ", ")))
	}
	return t.err
}

func (t *Text) section(title string, tab *Table) {
	t.printf("\n")
	t.header(title)
	if len(tab.Rows) == 0 {
		t.printf("(none)\n")
		return
	}
	if t.err == nil {
		t.err = tab.Write(t.w)
	}
}

func (st *Stats) rangeText() string {
	switch {
	case st.Since != nil && st.Until != nil:
		return fmt.Sprintf(" from %s until %s", *st.Since, *st.Until)
	case st.Since != nil:
		return " since " + *st.Since
	case st.Until != nil:
		return " until " + *st.Until
	}
	return ""
}

func rowsOf[T any](xs []T, f func(T) []string) [][]string {
	out := make([][]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// grouped writes a large count with thousands separators: 3,685,137.
func grouped(n int64) string {
	s := itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func plural2(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func dayText(d *string) string {
	if d == nil {
		return "(no time)"
	}
	return *d
}

func agentText(a *string) string {
	if a == nil {
		return "(not recorded)"
	}
	return OneLine(*a)
}

func modelText(m *string) string {
	if m == nil {
		return "(unknown)"
	}
	return OneLine(*m)
}

func pctText(p float64) string { return strconv.FormatFloat(p, 'f', 2, 64) + "%" }

func floatText(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(*f, 'f', 1, 64)
}

func costText(c *float64, mark string) string {
	if c == nil {
		return "-"
	}
	return mark + Cost(*c)
}

func msInt(ms *int64) string {
	if ms == nil {
		return "-"
	}
	f := float64(*ms)
	return msText(&f)
}

// msText is a duration for people: 850ms, 12.3s, 5m42s, 2h05m.
func msText(ms *float64) string {
	if ms == nil {
		return "-"
	}
	d := time.Duration(*ms * float64(time.Millisecond))
	switch {
	case d < time.Second:
		return strconv.FormatFloat(*ms, 'f', 0, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
