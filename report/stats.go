package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
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
	Tools    []ToolStats   `json:"tools"`
	Slowest  []SlowSession `json:"slowest_sessions"`

	CostByDay   []DayCost   `json:"cost_by_day"`
	CostByModel []ModelCost `json:"cost_by_model"`
	Prices      PriceInfo   `json:"prices"`
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

// ModelStats is the seed's "sessions by model".
type ModelStats struct {
	Model         *string  `json:"model"`
	Sessions      int64    `json:"sessions"`
	AvgDurationMS *float64 `json:"avg_duration_ms"`
	AvgMessages   *float64 `json:"avg_messages"`
	AvgToolCalls  *float64 `json:"avg_tool_calls"`
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

// CollectStats computes the statistics over the sessions in r.
func CollectStats(ctx context.Context, db Querier, r StatsRange) (*Stats, error) {
	st := &Stats{Prices: PriceInfo{AsOf: PricesAsOf, Source: PricesSource, UnpricedModels: []string{}, EstimateComment: estimateNote}}
	if r.Since > 0 {
		st.Since = isoPtr(&r.Since)
	}
	if r.Until > 0 {
		st.Until = isoPtr(&r.Until)
	}
	usage, err := usageFrom(ctx, db)
	if err != nil {
		return nil, err
	}
	costs := func(ctx context.Context, db Querier, with string) error { return st.costs(ctx, db, with, usage) }
	with := "WITH s AS (SELECT * FROM sessions WHERE " + r.where() + ")\n"
	steps := []func(context.Context, Querier, string) error{
		st.overview, st.byDay, st.results, st.byModel, st.tools, st.slowest, costs,
	}
	for _, step := range steps {
		if err := step(ctx, db, with); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// where is the condition on sessions; the bounds are numbers of our own,
// written into the SQL so that it runs the same on every driver.
func (r StatsRange) where() string {
	var c []string
	if r.Since > 0 {
		c = append(c, "started_at >= "+strconv.FormatInt(r.Since, 10))
	}
	if r.Until > 0 {
		c = append(c, "started_at < "+strconv.FormatInt(r.Until, 10))
	}
	if len(c) == 0 {
		return "1"
	}
	return strings.Join(c, " AND ")
}

// each runs q and calls scan for every row.
func each(ctx context.Context, db Querier, q string, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (st *Stats) overview(ctx context.Context, db Querier, with string) error {
	return each(ctx, db, with+`SELECT count(*), coalesce(sum(ended_at IS NULL), 0), min(started_at), max(started_at),
		total(total_messages), total(total_tool_calls) FROM s`, func(rows *sql.Rows) error {
		var first, last, msgs, tools figure
		if err := rows.Scan(&st.Sessions, &st.Incomplete, &first, &last, &msgs, &tools); err != nil {
			return err
		}
		st.Messages, st.ToolCalls = msgs.n, tools.n
		st.FirstAt, st.LastAt = nullInt(first), nullInt(last)
		st.First, st.Last = isoPtr(st.FirstAt), isoPtr(st.LastAt)
		return nil
	})
}

func (st *Stats) byDay(ctx context.Context, db Querier, with string) error {
	st.ByDay = []DayStats{}
	return each(ctx, db, with+`SELECT date(started_at/1000, 'unixepoch') AS day, count(*), avg(duration_ms),
		total(total_messages), total(total_tool_calls)
		FROM s GROUP BY day ORDER BY day DESC`, func(rows *sql.Rows) error {
		var d DayStats
		var day sql.NullString
		var avg amount
		var msgs, tools figure
		if err := rows.Scan(&day, &d.Sessions, &avg, &msgs, &tools); err != nil {
			return err
		}
		d.Messages, d.ToolCalls = msgs.n, tools.n
		d.Day, d.AvgDurationMS = nullStr(day), nullFloat(avg)
		st.ByDay = append(st.ByDay, d)
		return nil
	})
}

func (st *Stats) results(ctx context.Context, db Querier, with string) error {
	st.Results = []ResultStats{}
	var withResult int64
	err := each(ctx, db, with+`SELECT result_type, result_subtype, count(*) FROM s WHERE result_type IS NOT NULL
		GROUP BY result_type, result_subtype ORDER BY count(*) DESC, result_type, result_subtype`, func(rows *sql.Rows) error {
		var r ResultStats
		var sub sql.NullString
		if err := rows.Scan(&r.ResultType, &sub, &r.Sessions); err != nil {
			return err
		}
		r.ResultSubtype = nullStr(sub)
		withResult += r.Sessions
		st.Results = append(st.Results, r)
		return nil
	})
	for i := range st.Results {
		st.Results[i].Percentage = pct(st.Results[i].Sessions, withResult)
	}
	st.NoResult = st.Sessions - withResult
	return err
}

func (st *Stats) byModel(ctx context.Context, db Querier, with string) error {
	st.ByModel = []ModelStats{}
	return each(ctx, db, with+`SELECT model, count(*), avg(duration_ms), avg(total_messages), avg(total_tool_calls)
		FROM s GROUP BY model ORDER BY count(*) DESC, model`, func(rows *sql.Rows) error {
		var m ModelStats
		var model sql.NullString
		var dur, msgs, tools amount
		if err := rows.Scan(&model, &m.Sessions, &dur, &msgs, &tools); err != nil {
			return err
		}
		m.Model, m.AvgDurationMS, m.AvgMessages, m.AvgToolCalls = nullStr(model), nullFloat(dur), nullFloat(msgs), nullFloat(tools)
		st.ByModel = append(st.ByModel, m)
		return nil
	})
}

// toolsSQL: percentiles by nearest rank, the smallest duration whose rank
// is at least p × n, with window functions so that it runs anywhere. Only
// the columns it needs are named: status and duration_ms come after the
// tool's output in the row, so reading whole rows walks every output's
// overflow pages, and the archive has an index that holds just these.
const toolsSQL = `, t AS (SELECT session_id, tool_name, status, duration_ms FROM tool_calls WHERE session_id IN (SELECT id FROM s)),
d AS (
  SELECT tool_name, duration_ms,
    row_number() OVER (PARTITION BY tool_name ORDER BY duration_ms) AS rn,
    count(*) OVER (PARTITION BY tool_name) AS n
  FROM t WHERE duration_ms IS NOT NULL
),
p AS (
  SELECT tool_name,
    min(CASE WHEN rn >= n * 0.50 THEN duration_ms END) AS p50,
    min(CASE WHEN rn >= n * 0.95 THEN duration_ms END) AS p95
  FROM d GROUP BY tool_name
)
SELECT t.tool_name, count(*),
  coalesce(sum(t.status = 'success'), 0), coalesce(sum(t.status = 'error'), 0), coalesce(sum(t.status = 'pending'), 0),
  count(t.duration_ms), avg(t.duration_ms), max(t.duration_ms), p.p50, p.p95
FROM t LEFT JOIN p ON p.tool_name IS t.tool_name
GROUP BY t.tool_name ORDER BY count(*) DESC, t.tool_name`

func (st *Stats) tools(ctx context.Context, db Querier, with string) error {
	st.Tools = []ToolStats{}
	var total int64
	err := each(ctx, db, strings.TrimSuffix(with, "\n")+toolsSQL, func(rows *sql.Rows) error {
		var t ToolStats
		var name sql.NullString
		var avg amount
		var maxD, p50, p95 figure
		if err := rows.Scan(&name, &t.Calls, &t.Successes, &t.Errors, &t.Pending, &t.Timed, &avg, &maxD, &p50, &p95); err != nil {
			return err
		}
		t.ToolName, t.AvgDurationMS = nullStr(name), nullFloat(avg)
		t.MaxDurationMS, t.P50DurationMS, t.P95DurationMS = nullInt(maxD), nullInt(p50), nullInt(p95)
		t.ErrorRatePct = pct(t.Errors, t.Calls)
		total += t.Calls
		st.Tools = append(st.Tools, t)
		return nil
	})
	for i := range st.Tools {
		st.Tools[i].Percentage = pct(st.Tools[i].Calls, total)
	}
	return err
}

func (st *Stats) slowest(ctx context.Context, db Querier, with string) error {
	st.Slowest = []SlowSession{}
	return each(ctx, db, with+`SELECT id, model, duration_ms, total_messages, total_tool_calls, started_at
		FROM s WHERE typeof(duration_ms) = 'integer' ORDER BY duration_ms DESC, id LIMIT 10`, func(rows *sql.Rows) error {
		var s SlowSession
		var model sql.NullString
		var msgs, tools, started figure
		if err := rows.Scan(&s.ID, &model, &s.DurationMS, &msgs, &tools, &started); err != nil {
			return err
		}
		s.Model, s.Messages, s.ToolCalls, s.StartedAt = nullStr(model), nullInt(msgs), nullInt(tools), nullInt(started)
		s.Started = isoPtr(s.StartedAt)
		st.Slowest = append(st.Slowest, s)
		return nil
	})
}

// usageParts is tokens and reported cost per session and model, as u:
//   - a: sessions whose result lines carry modelUsage. It is cumulative
//     within one agent process, like total_cost_usd: the last result line
//     of each agent session counts, summed over agent sessions.
//   - b: sessions with no result line that carries usage: the assistant
//     messages, once per API message id (its last line, as the stored
//     totals count them), by the message's own model, with the part of the
//     cache writes that went to the one-hour cache. The last line is
//     found by its sequence, then fetched by its id ({session}-msg-{seq}):
//     sorting the lines themselves took twice as long.
//   - c: the others (result lines without modelUsage): the session's
//     totals under the session's model.
//
// Each part is worked out per session, so u over some sessions is the rows
// of each of them alone: the archive keeps them in a table (UsageTable).
const usageParts = `,
last_result AS (
  SELECT m.session_id, m.raw_message,
    row_number() OVER (PARTITION BY m.session_id, json_extract(m.raw_message, '$.session_id') ORDER BY m.sequence DESC) AS rn
  FROM messages m
  WHERE m.type = 'result' AND m.session_id IN (SELECT id FROM s)
    AND typeof(m.raw_message) = 'text' AND json_valid(m.raw_message)
    AND json_type(m.raw_message, '$.modelUsage') = 'object'
),
a AS (
  SELECT r.session_id, j.key AS model,
    total(json_extract(j.value, '$.inputTokens')) AS input_tokens,
    total(json_extract(j.value, '$.outputTokens')) AS output_tokens,
    total(json_extract(j.value, '$.cacheCreationInputTokens')) AS cache_creation_input_tokens,
    0 AS cache_creation_1h_tokens,
    total(json_extract(j.value, '$.cacheReadInputTokens')) AS cache_read_input_tokens,
    sum(json_extract(j.value, '$.costUSD')) AS cost_usd
  FROM last_result r, json_each(r.raw_message, '$.modelUsage') j
  WHERE r.rn = 1
  GROUP BY r.session_id, j.key
),
b_sessions AS (
  SELECT id FROM s WHERE id NOT IN (
    SELECT session_id FROM messages WHERE type = 'result' AND session_id IN (SELECT id FROM s)
      AND typeof(raw_message) = 'text' AND json_valid(raw_message)
      AND json_type(raw_message, '$.usage') = 'object')
),
last_line AS (
  SELECT session_id, max(sequence) AS sequence
  FROM messages
  WHERE type = 'assistant' AND api_message_id IS NOT NULL
    AND session_id IN (SELECT id FROM b_sessions)
    AND typeof(raw_message) = 'text' AND json_valid(raw_message)
    AND json_type(raw_message, '$.message.usage') = 'object'
  GROUP BY session_id, api_message_id
),
b AS (
  SELECT m.session_id, json_extract(m.raw_message, '$.message.model') AS model,
    total(json_extract(m.raw_message, '$.message.usage.input_tokens')) AS input_tokens,
    total(json_extract(m.raw_message, '$.message.usage.output_tokens')) AS output_tokens,
    total(json_extract(m.raw_message, '$.message.usage.cache_creation_input_tokens')) AS cache_creation_input_tokens,
    total(json_extract(m.raw_message, '$.message.usage.cache_creation.ephemeral_1h_input_tokens')) AS cache_creation_1h_tokens,
    total(json_extract(m.raw_message, '$.message.usage.cache_read_input_tokens')) AS cache_read_input_tokens,
    NULL AS cost_usd
  FROM last_line l JOIN messages m ON m.id = l.session_id || '-msg-' || l.sequence
  GROUP BY m.session_id, json_extract(m.raw_message, '$.message.model')
),
c AS (
  SELECT id AS session_id, model, input_tokens, output_tokens, cache_creation_input_tokens,
    0 AS cache_creation_1h_tokens, cache_read_input_tokens, total_cost_usd AS cost_usd
  FROM s WHERE id NOT IN (SELECT session_id FROM a) AND id NOT IN (SELECT id FROM b_sessions)
),
u AS (SELECT * FROM a UNION ALL SELECT * FROM b UNION ALL SELECT * FROM c)`

// finiteCost is a session's reported cost where it is a number: +Inf,
// which an older convlog stored for a cost of 1e400, would make every sum
// over it +Inf.
const finiteCost = "CASE WHEN abs(total_cost_usd) <= 1.7976931348623157e308 THEN total_cost_usd END"

// usageSelect reads u for the statistics. The order is total, down to the
// figures, so that sums of costs come out the same to the last bit however
// u was made (a session can have an a and a b row for one model).
const usageSelect = `
SELECT u.session_id, date(s.started_at/1000, 'unixepoch'), u.model,
  coalesce(u.input_tokens, 0), coalesce(u.output_tokens, 0), coalesce(u.cache_creation_input_tokens, 0),
  coalesce(u.cache_creation_1h_tokens, 0), coalesce(u.cache_read_input_tokens, 0),
  u.cost_usd, s.total_cost_usd IS NOT NULL
FROM u JOIN s ON s.id = u.session_id
ORDER BY u.session_id, u.model, 4, 5, 6, 7, 8, 9`

// UsageTable is the archive's copy of u, its rows for every session, kept
// by the archive update for the sessions it takes in: working u out reads
// the JSON of every assistant message, which a repeated `convlog stats`
// should not pay for again. The statistics use it where the database has it.
const UsageTable = "archive_usage"

// usageTableDDL: the columns have no declared type, so that they keep each
// value as u made it (INTEGER affinity would store a sum of 2.0 as 2): the
// figures read back are exactly those of usageParts.
const usageTableDDL = `CREATE TABLE IF NOT EXISTS ` + UsageTable + ` (
  session_id, model, input_tokens, output_tokens, cache_creation_input_tokens,
  cache_creation_1h_tokens, cache_read_input_tokens, cost_usd
);
CREATE INDEX IF NOT EXISTS ` + UsageTable + `_session ON ` + UsageTable + `(session_id)`

// statsIndex covers the columns of toolsSQL, so that the tool figures are
// read without the tools' outputs.
const statsIndex = "archive_tool_calls_stats"

const statsIndexDDL = `CREATE INDEX IF NOT EXISTS ` + statsIndex + ` ON tool_calls(session_id, tool_name, status, duration_ms)`

// Execer is what making the stats extras needs: the connection that holds
// the archive's write transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// HasStatsExtras says whether db has what CreateStatsExtras makes.
func HasStatsExtras(ctx context.Context, db Querier) (bool, error) {
	var n int64
	err := each(ctx, db, `SELECT count(*) FROM sqlite_master
		WHERE (type = 'index' AND name = '`+statsIndex+`') OR (type = 'table' AND name = '`+UsageTable+`')`,
		func(r *sql.Rows) error { return r.Scan(&n) })
	return n == 2, err
}

// CreateStatsExtras makes what speeds up the statistics of a database that
// is read more often than written (the archive): the index statsIndex, and
// the usage table, filled for every session. Run it in one transaction, so
// that a reader sees either no table or a whole one.
func CreateStatsExtras(ctx context.Context, db Execer) error {
	for _, ddl := range []string{statsIndexDDL, usageTableDDL} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return fillUsage(ctx, db, nil)
}

// RefreshUsage remakes the usage rows of the sessions ids from what the
// database holds of them now.
func RefreshUsage(ctx context.Context, db Execer, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return fillUsage(ctx, db, ids)
}

// fillUsage replaces the usage rows of the sessions ids, or of all of them
// when ids is nil.
func fillUsage(ctx context.Context, db Execer, ids []string) error {
	del, cond := "DELETE FROM "+UsageTable, "1"
	var args []any
	if ids != nil {
		list, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		del += " WHERE session_id IN (SELECT value FROM json_each(?))"
		cond, args = "id IN (SELECT value FROM json_each(?))", []any{string(list)}
	}
	if _, err := db.ExecContext(ctx, del, args...); err != nil {
		return fmt.Errorf("refresh %s: %w", UsageTable, err)
	}
	ins := "INSERT INTO " + UsageTable + "\nWITH s AS (SELECT * FROM sessions WHERE " + cond + ")" + usageParts + "\nSELECT * FROM u"
	if _, err := db.ExecContext(ctx, ins, args...); err != nil {
		return fmt.Errorf("refresh %s: %w", UsageTable, err)
	}
	return nil
}

// usageFrom is the u of the statistics: the archive's table where the
// database has one, else worked out from the messages.
func usageFrom(ctx context.Context, db Querier) (string, error) {
	var n int64
	err := each(ctx, db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '"+UsageTable+"'",
		func(r *sql.Rows) error { return r.Scan(&n) })
	if err != nil {
		return "", err
	}
	if n > 0 {
		return ",\nu AS (SELECT * FROM " + UsageTable + ")", nil
	}
	return usageParts, nil
}

// usageRow is one session's use of one model.
type usageRow struct {
	session  string
	day      *string
	model    *string
	tokens   TokenCounts
	cost     *float64 // reported for this model
	reported bool     // the session reported a cost
}

// costs: usage is the CTE u (see usageFrom), after with.
func (st *Stats) costs(ctx context.Context, db Querier, with, usage string) error {
	days := map[string]*DayCost{}
	dayOf := func(d *string) *DayCost {
		k := "\x00"
		if d != nil {
			k = *d
		}
		if days[k] == nil {
			days[k] = &DayCost{Day: d}
		}
		return days[k]
	}
	// Reported cost and tokens by day: the sessions' own totals.
	err := each(ctx, db, with+`SELECT date(started_at/1000, 'unixepoch') AS day, count(*),
		sum(`+finiteCost+`), count(`+finiteCost+`),
		total(input_tokens), total(output_tokens), total(cache_creation_input_tokens), total(cache_read_input_tokens)
		FROM s GROUP BY day`, func(rows *sql.Rows) error {
		var day sql.NullString
		var cost amount
		var f CostFigures
		var in, out, cw, cr figure
		if err := rows.Scan(&day, &f.Sessions, &cost, &f.ReportedSessions, &in, &out, &cw, &cr); err != nil {
			return err
		}
		f.Input, f.Output, f.CacheWrite, f.CacheRead = in.n, out.n, cw.n, cr.n
		f.ReportedCostUSD = nullFloat(cost)
		dayOf(nullStr(day)).CostFigures = f
		return nil
	})
	if err != nil {
		return err
	}

	var rows []usageRow
	err = each(ctx, db, strings.TrimSuffix(with, "\n")+usage+usageSelect, func(r *sql.Rows) error {
		var u usageRow
		var day, model sql.NullString
		var cost amount
		var in, out, cw, cw1h, cr figure
		if err := r.Scan(&u.session, &day, &model, &in, &out, &cw, &cw1h, &cr, &cost, &u.reported); err != nil {
			return err
		}
		u.tokens = TokenCounts{Input: in.n, Output: out.n, CacheWrite: cw.n, CacheWrite1h: cw1h.n, CacheRead: cr.n}
		u.day, u.model, u.cost = nullStr(day), nullStr(model), nullFloat(cost)
		if u.tokens.Any() || (u.cost != nil && *u.cost != 0) {
			rows = append(rows, u)
		}
		return nil
	})
	if err != nil {
		return err
	}

	models := map[string]*ModelCost{}
	unpriced := map[string]bool{}
	type key struct{ group, session string }
	counted := map[key]bool{} // sessions counted once per group and kind
	once := func(kind, group, session string) bool {
		k := key{kind + "\x00" + group, session}
		if counted[k] {
			return false
		}
		counted[k] = true
		return true
	}
	for _, u := range rows {
		name := "\x00"
		if u.model != nil {
			name = *u.model
		}
		m := models[name]
		if m == nil {
			m = &ModelCost{Model: u.model}
			models[name] = m
		}
		if once("m", name, u.session) {
			m.Sessions++
		}
		m.TokenCounts.add(u.tokens)
		if u.cost != nil {
			m.ReportedCostUSD = addFloat(m.ReportedCostUSD, *u.cost)
			if once("mr", name, u.session) {
				m.ReportedSessions++
			}
		}
		if u.reported || !u.tokens.Any() {
			continue
		}
		dayKey := "\x00"
		if u.day != nil {
			dayKey = *u.day
		}
		d := dayOf(u.day)
		price, ok := PriceOf(name)
		if !ok {
			unpriced[name] = true
			if once("mu", name, u.session) {
				m.UnpricedSessions++
			}
			if once("du", dayKey, u.session) {
				d.UnpricedSessions++
			}
			continue
		}
		c := price.Cost(u.tokens)
		m.EstimatedCostUSD = addFloat(m.EstimatedCostUSD, c)
		d.EstimatedCostUSD = addFloat(d.EstimatedCostUSD, c)
		if once("me", name, u.session) {
			m.EstimatedSessions++
		}
		if once("de", dayKey, u.session) {
			d.EstimatedSessions++
		}
	}

	st.CostByDay = make([]DayCost, 0, len(days))
	for _, d := range days {
		st.CostByDay = append(st.CostByDay, *d)
	}
	sort.Slice(st.CostByDay, func(i, j int) bool { return deref(st.CostByDay[i].Day) > deref(st.CostByDay[j].Day) })
	st.CostByModel = make([]ModelCost, 0, len(models))
	for _, m := range models {
		st.CostByModel = append(st.CostByModel, *m)
	}
	sort.Slice(st.CostByModel, func(i, j int) bool {
		a, b := st.CostByModel[i], st.CostByModel[j]
		if a.Sessions != b.Sessions {
			return a.Sessions > b.Sessions
		}
		return deref(a.Model) < deref(b.Model)
	})
	for name := range unpriced {
		if name == "\x00" {
			name = "(unknown model)"
		}
		st.Prices.UnpricedModels = append(st.Prices.UnpricedModels, name)
	}
	sort.Strings(st.Prices.UnpricedModels)
	return nil
}

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

	costHeader := []string{"sessions", "reported cost", "estimated cost", "input", "output", "cache write", "cache read"}
	costRight := []bool{true, true, true, true, true, true, true, true}
	costCells := func(f CostFigures) []string {
		return []string{itoa(f.Sessions), costText(f.ReportedCostUSD, ""), costText(f.EstimatedCostUSD, "~"),
			grouped(f.Input), grouped(f.Output), grouped(f.CacheWrite), grouped(f.CacheRead)}
	}
	t.section("Cost and tokens by day", &Table{
		Header: append([]string{"day"}, costHeader...),
		Right:  append([]bool{false}, costRight...),
		Rows:   rowsOf(st.CostByDay, func(d DayCost) []string { return append([]string{dayText(d.Day)}, costCells(d.CostFigures)...) }),
	})
	t.section("Cost and tokens by model", &Table{
		Header: append([]string{"model"}, costHeader...),
		Right:  append([]bool{false}, costRight...),
		Rows:   rowsOf(st.CostByModel, func(m ModelCost) []string { return append([]string{modelText(m.Model)}, costCells(m.CostFigures)...) }),
	})
	t.printf("Reported cost is what the agent reported in its result lines. Estimated cost (~) prices the tokens of\n")
	t.printf("sessions that reported none (e.g. Claude Code transcripts) at list prices as of %s; the two are\n", PricesAsOf)
	t.printf("never added together. Tokens by model come from modelUsage, else from each API message once.\n")
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
