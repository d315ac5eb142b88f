package report

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/stream"
)

// The statistics read three small tables, each with one plain query: the
// sessions, their usage rows (record.UsageTable) and their tool figures
// (record.ToolsTable), and add them up here. Neither the messages nor the
// tool calls are read, whose rows carry the lines and the tools' outputs;
// and the queries are simple enough that every engine plans them well: on
// the libSQL server the tests use, the percentiles' window functions, the
// IN subqueries and the correlated NOT EXISTS of earlier versions took
// minutes over 300 sessions. A database without the tool figures (synced by
// an older convlog, not since) has its tool calls read instead, the few
// columns the figures need.

// Batcher is a Querier that answers several queries in one request, as a
// libSQL server over HTTP does (one batch, each step run if the one before
// it succeeded): QueryBatch hands each row of each query's answer to each,
// with the query's index. Where a request is a round trip, the statistics
// then cost one.
type Batcher interface {
	Querier
	QueryBatch(ctx context.Context, queries []string, each func(query int, row Scanner) error) error
}

// Scanner is a row being read: *sql.Rows, or a row of a batch.
type Scanner interface {
	Scan(dest ...any) error
}

// CollectStats computes the statistics over the sessions in r.
func CollectStats(ctx context.Context, db Querier, r StatsRange) (*Stats, error) {
	st := &Stats{Prices: PriceInfo{AsOf: PricesAsOf, Source: PricesSource, UnpricedModels: []string{}, EstimateComment: estimateNote}}
	if r.Since > 0 {
		st.Since = isoPtr(&r.Since)
	}
	if r.Until > 0 {
		st.Until = isoPtr(&r.Until)
	}
	in, err := read(ctx, db, r)
	if err != nil {
		return nil, err
	}
	// Sums of costs come out the same to the last bit wherever the rows
	// are read: sessions in id order, each one's rows in model and tier
	// order (see facts).
	slices.SortFunc(in.sessions, func(a, b *sessionRow) int { return strings.Compare(a.id, b.id) })
	st.Copies = copiesOf(in.sessions)
	drop := make(map[string]bool, len(st.Copies))
	for _, id := range st.Copies {
		drop[id] = true
	}
	sessions := make([]*sessionRow, 0, len(in.sessions))
	byID := make(map[string]*sessionRow, len(in.sessions))
	for _, s := range in.sessions {
		if !drop[s.id] {
			sessions = append(sessions, s)
			byID[s.id] = s
		}
	}
	st.overview(sessions)
	st.byDay(sessions)
	st.results(sessions)
	st.slowest(sessions)
	for _, u := range in.usage {
		if s := byID[u.session]; s != nil {
			s.hasUsage = true
			s.usage = append(s.usage, u.usageRow)
		}
	}
	tools, err := in.toolFigures(ctx, db, r, sessions, byID)
	if err != nil {
		return nil, err
	}
	st.tools(tools)
	st.byAgent(sessions, in.toolErrors)
	facts := make([]*sessionFacts, len(sessions))
	for i, s := range sessions {
		facts[i] = s.facts()
	}
	st.tally(facts) // costs by day, model and agent
	return st, nil
}

// input is what the statistics read.
type input struct {
	tables   map[string]bool
	sessions []*sessionRow
	usage    []sessionUsage
	// The tool figures by tool (session empty), and by session for the
	// sessions whose agent session another session logs too (the copies
	// among them are taken off).
	tools    []toolRow
	hasTools bool // the tool figures were read
	// noAgent: the sessions table has no agent column (a database synced
	// by a convlog that did not record it, not since).
	noAgent bool
	// Tool errors by session, for the sessions by agent.
	toolErrors map[string]int64
}

// agentColumn is what the sessions query reads for the agent.
func (in *input) agentColumn() string {
	if in.noAgent {
		return "NULL"
	}
	return "agent"
}

func (in *input) scanToolErrors(rows Scanner) error {
	var id string
	var n figure
	if err := rows.Scan(&id, &n); err != nil {
		return err
	}
	if in.toolErrors == nil {
		in.toolErrors = map[string]int64{}
	}
	in.toolErrors[id] += n.n
	return nil
}

type sessionUsage struct {
	session string
	usageRow
}

type toolRow struct {
	session, name                     string
	calls, successes, errors, pending int64
	durations                         string
}

// query is one query of the statistics and what reads its rows.
type query struct {
	sql  string
	scan func(Scanner) error
}

// read runs the statistics' queries: all in one request where db batches
// them, else one by one, each table's only if the database has it.
func read(ctx context.Context, db Querier, r StatsRange) (*input, error) {
	var batchErr error
	if b, ok := db.(Batcher); ok {
		in := &input{}
		batchErr = runBatch(ctx, b, in.queries(r, true, true))
		if batchErr == nil {
			in.hasTools = true
			return in, nil
		}
		// A table missing (a database synced by an older convlog) fails
		// the batch: read what there is one by one.
	}
	in := &input{}
	qs := in.queries(r, false, false)
	if err := each(ctx, db, qs[0].sql, qs[0].scan); err != nil {
		// (A batch that failed otherwise, its connection or its time, has
		// its own error to tell.)
		return nil, cmp.Or(batchErr, err)
	}
	var agent int64
	if err := each(ctx, db, "SELECT count(*) FROM pragma_table_info('sessions') WHERE name = 'agent'",
		func(rows Scanner) error { return rows.Scan(&agent) }); err != nil {
		return nil, err
	}
	in.noAgent = agent == 0
	if batchErr != nil && in.tables[record.UsageTable] && in.tables[record.ToolsTable] {
		return nil, batchErr
	}
	in.hasTools = in.tables[record.ToolsTable]
	qs = in.queries(r, in.tables[record.UsageTable], in.hasTools)
	for _, q := range qs[1:] {
		if err := each(ctx, db, q.sql, q.scan); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// runBatch runs qs in one request.
func runBatch(ctx context.Context, b Batcher, qs []query) error {
	sqls := make([]string, len(qs))
	for i, q := range qs {
		sqls[i] = q.sql
	}
	return b.QueryBatch(ctx, sqls, func(i int, row Scanner) error { return qs[i].scan(row) })
}

// queries are the statistics' queries: the tables there are, the
// sessions, and their usage rows and tool figures where asked for.
func (in *input) queries(r StatsRange, usage, tools bool) []query {
	qs := []query{{"SELECT name FROM sqlite_master WHERE type = 'table'", func(rows Scanner) error {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if in.tables == nil {
			in.tables = map[string]bool{}
		}
		in.tables[name] = true
		return nil
	}}, {`SELECT id, coalesce(agent_session_id, ''), started_at, ended_at, duration_ms, model, result_type, result_subtype,
		total_messages, total_tool_calls, total_cost_usd, input_tokens, output_tokens, cache_creation_input_tokens,
		cache_read_input_tokens, num_turns, is_error, ` + in.agentColumn() + ` FROM sessions WHERE ` + r.where(), func(rows Scanner) error {
		s := &sessionRow{}
		if err := rows.Scan(&s.id, &s.agent, &s.started, &s.ended, &s.duration, &s.model, &s.rtype, &s.rsub,
			&s.messages, &s.toolCalls, &s.cost, &s.tokens[0], &s.tokens[1], &s.tokens[2], &s.tokens[3], &s.turns,
			&s.isError, &s.agentName); err != nil {
			return err
		}
		in.sessions = append(in.sessions, s)
		return nil
	}}}
	if usage {
		qs = append(qs, query{`SELECT x.session_id, x.model, x.tier, x.input_tokens, x.output_tokens, x.cache_creation_input_tokens,
		x.cache_creation_1h_tokens, x.cache_read_input_tokens, x.cost_usd FROM ` + r.ofSessions(record.UsageTable), func(rows Scanner) error {
			var u sessionUsage
			var model sql.NullString
			var tokens [5]figure
			var cost amount
			if err := rows.Scan(&u.session, &model, &u.tier, &tokens[0], &tokens[1], &tokens[2], &tokens[3], &tokens[4], &cost); err != nil {
				return err
			}
			if model.Valid && model.String != "" {
				u.model = &model.String
			}
			u.tokens = TokenCounts{Input: tokens[0].n, Output: tokens[1].n, CacheWrite: tokens[2].n,
				CacheWrite1h: tokens[3].n, CacheRead: tokens[4].n}
			u.cost = nullFloat(cost)
			in.usage = append(in.usage, u)
			return nil
		}})
	}
	if tools {
		// By tool, not by session: a twentieth of the rows (and of the
		// bytes that a server sends and a client decodes).
		qs = append(qs, query{`SELECT '', x.tool_name, sum(x.calls), sum(x.successes), sum(x.errors), sum(x.pending),
		group_concat(substr(x.durations, 2, length(x.durations) - 2)) FROM ` + r.ofSessions(record.ToolsTable) + ` GROUP BY x.tool_name`, in.scanTool},
			query{`SELECT x.session_id, sum(x.errors) FROM ` + r.ofSessions(record.ToolsTable) + andWhere(r.bounded()) +
				`x.errors > 0 GROUP BY x.session_id`, in.scanToolErrors},
			query{`SELECT x.session_id, x.tool_name, x.calls, x.successes, x.errors, x.pending, x.durations FROM ` + r.ofSessions(record.ToolsTable) +
				andWhere(r.bounded()) + `x.session_id IN (SELECT id FROM sessions WHERE ` + r.where() + ` AND agent_session_id IN
		(SELECT agent_session_id FROM sessions WHERE ` + r.where() + ` AND agent_session_id <> '' GROUP BY agent_session_id HAVING count(*) > 1))`, in.scanTool})
	}
	return qs
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

// bounded says whether r leaves out any session.
func (r StatsRange) bounded() bool { return r.Since > 0 || r.Until > 0 }

// ofSessions is the FROM clause that reads table (aliased x) for the
// sessions in r: a join on sessions when the range leaves some out.
func (r StatsRange) ofSessions(table string) string {
	if !r.bounded() {
		return table + " x"
	}
	return table + " x JOIN sessions s ON s.id = x.session_id WHERE " + strings.ReplaceAll(r.where(), "started_at", "s.started_at")
}

// each runs q and calls scan for every row.
func each(ctx context.Context, db Querier, q string, scan func(Scanner) error) error {
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

// sessionRow is what the statistics read of a session.
//
// Its figures are read leniently (figure, amount): a file of an older
// convlog may hold a count that is no integer (1e19 as a REAL) or a cost of
// +Inf, which read as unknown rather than stop the statistics of all.
type sessionRow struct {
	id, agent           string
	agentName           sql.NullString // sessions.agent: claude-code, gemini-cli, …
	isError             figure
	started, ended      figure
	duration            figure
	model, rtype, rsub  sql.NullString
	messages, toolCalls figure
	cost                amount
	tokens              [4]figure // input, output, cache writes, cache reads
	turns               figure
	toolErrors          int64
	usage               []usageRow
	hasUsage            bool
}

// copiesOf finds the sessions that log an agent session which another
// session here logs too (see Copies), and returns those not to count.
func copiesOf(sessions []*sessionRow) []string {
	groups := map[string][]copyInfo{}
	for _, s := range sessions {
		if s.agent == "" {
			continue
		}
		c := copyInfo{id: s.id, agent: s.agent, cost: sql.NullFloat64{Float64: s.cost.f, Valid: s.cost.ok},
			turns: sql.NullInt64{Int64: s.turns.n, Valid: s.turns.ok}, messages: s.messages.n}
		for i, t := range s.tokens {
			c.tokens[i] = t.n
		}
		groups[s.agent] = append(groups[s.agent], c)
	}
	out := []string{}
	for _, g := range groups {
		if len(g) > 1 {
			out = append(out, Copies(g)...)
		}
	}
	slices.Sort(out)
	return out
}

func (st *Stats) overview(sessions []*sessionRow) {
	st.Sessions = int64(len(sessions))
	var first, last *int64
	for _, s := range sessions {
		if !s.ended.ok {
			st.Incomplete++
		}
		if s.started.ok {
			v := s.started.n
			if first == nil || v < *first {
				first = &v
			}
			if last == nil || v > *last {
				w := v
				last = &w
			}
		}
		st.Messages += s.messages.n
		st.ToolCalls += s.toolCalls.n
	}
	st.FirstAt, st.LastAt = first, last
	st.First, st.Last = isoPtr(first), isoPtr(last)
}

// dayOf is SQLite's date(ms/1000, 'unixepoch'): the UTC day, or nil for no
// time or one outside the years 0 to 9999.
func dayOf(ms figure) *string {
	if !ms.ok {
		return nil
	}
	sec := ms.n / 1000
	if sec < -62167219200 || sec > 253402300799 {
		return nil
	}
	d := time.Unix(sec, 0).UTC().Format(time.DateOnly)
	return &d
}

// avg is SQLite's avg() of integers: the sum over the count, in floating
// point; nil for none.
func avg(sum, n int64) *float64 {
	if n == 0 {
		return nil
	}
	v := float64(sum) / float64(n)
	return &v
}

func (st *Stats) byDay(sessions []*sessionRow) {
	type acc struct {
		d           DayStats
		durSum, dur int64
	}
	days := map[string]*acc{}
	key := func(d *string) string {
		if d == nil {
			return ""
		}
		return "d" + *d
	}
	for _, s := range sessions {
		day := dayOf(s.started)
		a := days[key(day)]
		if a == nil {
			a = &acc{d: DayStats{Day: day}}
			days[key(day)] = a
		}
		a.d.Sessions++
		a.d.Messages += s.messages.n
		a.d.ToolCalls += s.toolCalls.n
		if s.duration.ok {
			a.durSum += s.duration.n
			a.dur++
		}
	}
	st.ByDay = make([]DayStats, 0, len(days))
	for _, a := range days {
		a.d.AvgDurationMS = avg(a.durSum, a.dur)
		st.ByDay = append(st.ByDay, a.d)
	}
	// Newest first; sessions without a time last, as SQL orders NULL.
	slices.SortFunc(st.ByDay, func(a, b DayStats) int { return -compareNullable(a.Day, b.Day) })
}

// compareNullable orders strings as SQL does: NULL first, then bytes.
func compareNullable(a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return strings.Compare(*a, *b)
}

func (st *Stats) results(sessions []*sessionRow) {
	type key struct {
		t, sub string
		hasSub bool
	}
	counts := map[key]*ResultStats{}
	var withResult int64
	for _, s := range sessions {
		if !s.rtype.Valid {
			continue
		}
		k := key{s.rtype.String, s.rsub.String, s.rsub.Valid}
		r := counts[k]
		if r == nil {
			r = &ResultStats{ResultType: k.t, ResultSubtype: nullStr(s.rsub)}
			counts[k] = r
		}
		r.Sessions++
		withResult++
	}
	st.Results = make([]ResultStats, 0, len(counts))
	for _, r := range counts {
		r.Percentage = pct(r.Sessions, withResult)
		st.Results = append(st.Results, *r)
	}
	slices.SortFunc(st.Results, func(a, b ResultStats) int {
		if a.Sessions != b.Sessions {
			return cmpDesc(a.Sessions, b.Sessions)
		}
		if c := strings.Compare(a.ResultType, b.ResultType); c != 0 {
			return c
		}
		return compareNullable(a.ResultSubtype, b.ResultSubtype)
	})
	st.NoResult = st.Sessions - withResult
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func (st *Stats) slowest(sessions []*sessionRow) {
	var timed []*sessionRow
	for _, s := range sessions {
		if s.duration.ok {
			timed = append(timed, s)
		}
	}
	slices.SortFunc(timed, func(a, b *sessionRow) int {
		if c := cmpDesc(a.duration.n, b.duration.n); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	st.Slowest = make([]SlowSession, 0, min(len(timed), 10))
	for _, s := range timed[:min(len(timed), 10)] {
		x := SlowSession{ID: s.id, Model: nullStr(s.model), DurationMS: s.duration.n,
			Messages: nullInt(s.messages), ToolCalls: nullInt(s.toolCalls), StartedAt: nullInt(s.started)}
		x.Started = isoPtr(x.StartedAt)
		st.Slowest = append(st.Slowest, x)
	}
}

// facts is what the statistics by model and the costs need of s: its
// usage rows in model and tier order, or for a session without any (a
// database synced before the table, holding sessions whose files are gone)
// its totals under its model. Rows without tokens or cost are left out.
func (s *sessionRow) facts() *sessionFacts {
	f := &sessionFacts{id: s.id, agent: nullStr(s.agentName), model: nullStr(s.model), day: dayOf(s.started), duration: nullInt(s.duration),
		messages: s.messages.n, toolCalls: s.toolCalls.n, cost: nullFloat(s.cost)}
	rows := s.usage
	if !s.hasUsage {
		rows = []usageRow{{model: nullStr(s.model), tier: stream.TierStandard, cost: nullFloat(s.cost),
			tokens: TokenCounts{Input: s.tokens[0].n, Output: s.tokens[1].n, CacheWrite: s.tokens[2].n, CacheRead: s.tokens[3].n}}}
	}
	slices.SortStableFunc(rows, func(a, b usageRow) int {
		if c := compareNullable(a.model, b.model); c != 0 {
			return c
		}
		return strings.Compare(a.tier, b.tier)
	})
	for _, u := range rows {
		if u.tokens.Any() || (u.cost != nil && *u.cost != 0) {
			f.rows = append(f.rows, u)
		}
	}
	return f
}

// toolAcc adds up one tool's figures.
type toolAcc struct {
	name                              *string
	calls, successes, errors, pending int64
	durations                         []int64
}

// andWhere continues a FROM clause of StatsRange.ofSessions with one more
// condition.
func andWhere(joined bool) string {
	if joined {
		return " AND "
	}
	return " WHERE "
}

func (in *input) scanTool(rows Scanner) error {
	var t toolRow
	var name, durations sql.NullString
	var n [4]sql.NullInt64
	if err := rows.Scan(&t.session, &name, &n[0], &n[1], &n[2], &n[3], &durations); err != nil {
		return err
	}
	t.name, t.durations = name.String, durations.String
	t.calls, t.successes, t.errors, t.pending = n[0].Int64, n[1].Int64, n[2].Int64, n[3].Int64
	in.tools = append(in.tools, t)
	return nil
}

// toolFigures adds up the tool figures of the sessions: their rows of
// record.ToolsTable, and for sessions with tool calls but no such rows (or
// every session, when the database lacks the table) their tool calls.
func (in *input) toolFigures(ctx context.Context, db Querier, r StatsRange, sessions []*sessionRow, byID map[string]*sessionRow) (map[string]*toolAcc, error) {
	tools := map[string]*toolAcc{}
	acc := func(name string) *toolAcc {
		t := tools[name]
		if t == nil {
			t = &toolAcc{}
			if name != "" {
				n := name
				t.name = &n
			}
			tools[name] = t
		}
		return t
	}
	if in.hasTools {
		// The figures by tool, less those of the copies; they must account
		// for every tool call the sessions counted, or some sessions lack
		// figures (synced by an older convlog) and are read one by one.
		var want, got int64
		for _, s := range sessions {
			want += s.toolCalls.n
		}
		for _, x := range in.tools {
			if x.session != "" {
				continue
			}
			t := acc(x.name)
			t.calls, t.successes, t.errors, t.pending = x.calls, x.successes, x.errors, x.pending
			t.durations = record.ParseDurations(x.durations, nil)
			got += x.calls
		}
		for _, x := range in.tools {
			if x.session == "" || byID[x.session] != nil {
				continue
			}
			t := acc(x.name)
			t.calls -= x.calls
			t.successes -= x.successes
			t.errors -= x.errors
			t.pending -= x.pending
			t.durations = without(t.durations, record.ParseDurations(x.durations, nil))
			got -= x.calls
		}
		for k, t := range tools {
			if t.calls == 0 {
				delete(tools, k)
			}
		}
		if got == want {
			return tools, nil
		}
		clear(tools)
		var err error
		if in.tools, err = in.toolsBySession(ctx, db, r); err != nil {
			return nil, err
		}
	}
	covered := map[string]bool{}
	for _, x := range in.tools {
		if byID[x.session] == nil {
			continue
		}
		covered[x.session] = true
		t := acc(x.name)
		t.calls += x.calls
		t.successes += x.successes
		t.errors += x.errors
		t.pending += x.pending
		t.durations = record.ParseDurations(x.durations, t.durations)
	}
	var missing []string
	for _, s := range sessions {
		if !covered[s.id] && (!in.hasTools || s.toolCalls.n > 0) {
			missing = append(missing, s.id)
		}
	}
	if len(missing) == 0 {
		return tools, nil
	}
	// Read by session when they are few; else all of them, the others
	// left out here.
	q := `SELECT x.session_id, x.tool_name, x.status, x.duration_ms FROM ` + r.ofSessions("tool_calls")
	if len(missing) <= 100 && (in.hasTools || len(missing) < len(sessions)) {
		lits := make([]string, len(missing))
		for i, id := range missing {
			lits[i] = quote(id)
		}
		q = `SELECT x.session_id, x.tool_name, x.status, x.duration_ms FROM tool_calls x WHERE x.session_id IN (` + strings.Join(lits, ", ") + `)`
	}
	want := make(map[string]bool, len(missing))
	for _, id := range missing {
		want[id] = true
	}
	err := each(ctx, db, q, func(rows Scanner) error {
		var id string
		var name, status sql.NullString
		var dur sql.NullInt64
		if err := rows.Scan(&id, &name, &status, &dur); err != nil {
			return err
		}
		if !want[id] {
			return nil
		}
		t := acc(name.String)
		t.calls++
		switch status.String {
		case "success":
			t.successes++
		case "error":
			t.errors++
			if in.toolErrors == nil {
				in.toolErrors = map[string]int64{}
			}
			in.toolErrors[id]++
		case "pending":
			t.pending++
		}
		if dur.Valid {
			t.durations = append(t.durations, dur.Int64)
		}
		return nil
	})
	return tools, err
}

// toolsBySession reads the tool figures of every session in r.
func (in *input) toolsBySession(ctx context.Context, db Querier, r StatsRange) ([]toolRow, error) {
	in.tools = nil
	err := each(ctx, db, `SELECT x.session_id, x.tool_name, x.calls, x.successes, x.errors, x.pending, x.durations FROM `+
		r.ofSessions(record.ToolsTable), in.scanTool)
	return in.tools, err
}

// without returns all less the durations of some, each taken once.
func without(all, some []int64) []int64 {
	slices.Sort(all)
	slices.Sort(some)
	out := all[:0]
	j := 0
	for _, d := range all {
		for j < len(some) && some[j] < d {
			j++
		}
		if j < len(some) && some[j] == d {
			j++
			continue
		}
		out = append(out, d)
	}
	return out
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// tools turns the figures by tool into the table: percentiles by nearest
// rank, the smallest duration whose rank (from 1) is at least p × n, with
// p × n in floating point as SQL would compute it.
func (st *Stats) tools(tools map[string]*toolAcc) {
	st.Tools = make([]ToolStats, 0, len(tools))
	var total int64
	for _, a := range tools {
		t := ToolStats{ToolName: a.name, Calls: a.calls, Successes: a.successes, Errors: a.errors, Pending: a.pending,
			Timed: int64(len(a.durations)), ErrorRatePct: pct(a.errors, a.calls)}
		if n := len(a.durations); n > 0 {
			slices.Sort(a.durations)
			var sum int64
			for _, d := range a.durations {
				sum += d
			}
			t.AvgDurationMS = avg(sum, int64(n))
			hi := a.durations[n-1]
			t.MaxDurationMS = &hi
			t.P50DurationMS, t.P95DurationMS = nearestRank(a.durations, 0.50), nearestRank(a.durations, 0.95)
		}
		total += t.Calls
		st.Tools = append(st.Tools, t)
	}
	for i := range st.Tools {
		st.Tools[i].Percentage = pct(st.Tools[i].Calls, total)
	}
	slices.SortFunc(st.Tools, func(a, b ToolStats) int {
		if a.Calls != b.Calls {
			return cmpDesc(a.Calls, b.Calls)
		}
		return compareNullable(a.ToolName, b.ToolName)
	})
}

// nearestRank is the p-th percentile of sorted by nearest rank.
func nearestRank(sorted []int64, p float64) *int64 {
	n := float64(len(sorted))
	for i, d := range sorted {
		if float64(i+1) >= n*p {
			v := d
			return &v
		}
	}
	return nil
}

// byAgent is the sessions by agent: the sessions of each, their results
// and tool errors (their cost is tally's). Ordered as SQL's GROUP BY agent
// ORDER BY count(*) DESC, agent would.
func (st *Stats) byAgent(sessions []*sessionRow, toolErrors map[string]int64) {
	type acc struct {
		a           AgentStats
		durSum, dur int64
	}
	agents := map[string]*acc{}
	var order []string
	for _, s := range sessions {
		k := "\x00"
		if s.agentName.Valid {
			k = s.agentName.String
		}
		a := agents[k]
		if a == nil {
			a = &acc{a: AgentStats{Agent: nullStr(s.agentName)}}
			agents[k] = a
			order = append(order, k)
		}
		a.a.Sessions++
		if !s.ended.ok {
			a.a.Incomplete++
		}
		if s.isError.ok && s.isError.n == 1 {
			a.a.Errors++
		}
		if s.duration.ok {
			a.durSum += s.duration.n
			a.dur++
		}
		a.a.Messages += s.messages.n
		a.a.ToolCalls += s.toolCalls.n
		a.a.ToolErrors += toolErrors[s.id]
	}
	st.ByAgent = make([]AgentStats, 0, len(order))
	for _, k := range order {
		a := agents[k]
		a.a.AvgDurationMS = avg(a.durSum, a.dur)
		a.a.ToolErrorPct = pct(a.a.ToolErrors, a.a.ToolCalls)
		st.ByAgent = append(st.ByAgent, a.a)
	}
	slices.SortFunc(st.ByAgent, func(a, b AgentStats) int {
		if a.Sessions != b.Sessions {
			return cmpDesc(a.Sessions, b.Sessions)
		}
		return compareNullable(a.Agent, b.Agent)
	})
}
