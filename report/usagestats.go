package report

import (
	"context"
	"database/sql"
	"sort"
	"strings"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/stream"
)

// hasTable says whether db has a table of that name.
func hasTable(ctx context.Context, db Querier, name string) (bool, error) {
	var n int64
	err := each(ctx, db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "+quote(name),
		func(r *sql.Rows) error { return r.Scan(&n) })
	return n > 0, err
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// notIn is the condition that leaves out the sessions ids.
func notIn(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quote(id)
	}
	return " AND id NOT IN (" + strings.Join(q, ", ") + ")"
}

// copyInfo is what choosing among the sessions of one agent session needs.
type copyInfo struct {
	id, agent string
	cost      sql.NullFloat64
	tokens    [4]int64
	turns     sql.NullInt64
	messages  int64
}

// copies finds the sessions in r that log an agent session which another
// session in r logs too (the agent session id is the same: convlog tee of
// its stream and convlog import of its transcript, or the same file
// imported twice), and returns those not to count, so that every agent
// session counts once. Of the sessions of one agent session:
//   - those with a reported cost (result lines) count: they are its runs,
//     one each (a resumed session is run again under the same id), except
//     that a run seen twice, with the same cost, tokens and turns, counts
//     once (the one with the most messages);
//   - when none reports a cost, the one with the most tokens counts (the
//     transcript, which holds every run), then the most messages.
func (st *Stats) copies(ctx context.Context, db Querier, r StatsRange) ([]string, error) {
	st.Copies = []string{}
	groups := map[string][]copyInfo{}
	err := each(ctx, db, `SELECT id, agent_session_id, total_cost_usd, coalesce(input_tokens, 0), coalesce(output_tokens, 0),
		coalesce(cache_creation_input_tokens, 0), coalesce(cache_read_input_tokens, 0), num_turns, coalesce(total_messages, 0)
		FROM sessions WHERE `+r.where()+` AND agent_session_id IS NOT NULL AND agent_session_id <> ''
		AND agent_session_id IN (SELECT agent_session_id FROM sessions WHERE `+r.where()+` GROUP BY agent_session_id HAVING count(*) > 1)`,
		func(rows *sql.Rows) error {
			var c copyInfo
			var cost amount
			var in, out, cw, cr, turns, msgs figure // read leniently, as everywhere in the statistics
			if err := rows.Scan(&c.id, &c.agent, &cost, &in, &out, &cw, &cr, &turns, &msgs); err != nil {
				return err
			}
			c.cost = sql.NullFloat64{Float64: cost.f, Valid: cost.ok}
			c.tokens = [4]int64{in.n, out.n, cw.n, cr.n}
			c.turns = sql.NullInt64{Int64: turns.n, Valid: turns.ok}
			c.messages = msgs.n
			groups[c.agent] = append(groups[c.agent], c)
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		st.Copies = append(st.Copies, Copies(g)...)
	}
	sort.Strings(st.Copies)
	return st.Copies, nil
}

// Copies returns, of the sessions of one agent session, those not to count
// (see Stats.copies).
func Copies(g []copyInfo) []string {
	more := func(a, b copyInfo) bool { // a is the better copy
		ta, tb := a.tokens[0]+a.tokens[1]+a.tokens[2]+a.tokens[3], b.tokens[0]+b.tokens[1]+b.tokens[2]+b.tokens[3]
		if ta != tb {
			return ta > tb
		}
		if a.messages != b.messages {
			return a.messages > b.messages
		}
		return a.id < b.id
	}
	var drop []string
	var reported []copyInfo
	for _, c := range g {
		if c.cost.Valid {
			reported = append(reported, c)
		}
	}
	if len(reported) == 0 {
		best := g[0]
		for _, c := range g[1:] {
			if more(c, best) {
				best = c
			}
		}
		for _, c := range g {
			if c.id != best.id {
				drop = append(drop, c.id)
			}
		}
		return drop
	}
	type run struct {
		cost   float64
		tokens [4]int64
		turns  sql.NullInt64
	}
	best := map[run]copyInfo{}
	for _, c := range reported {
		k := run{c.cost.Float64, c.tokens, c.turns}
		if b, ok := best[k]; !ok || more(c, b) {
			best[k] = c
		}
	}
	for _, c := range g {
		if b, ok := best[run{c.cost.Float64, c.tokens, c.turns}]; !c.cost.Valid || !ok || b.id != c.id {
			drop = append(drop, c.id)
		}
	}
	return drop
}

// usageSQL is u: the usage rows of the sessions in s (table
// record.UsageTable), and for a session without any (a database synced
// before the table, holding sessions whose files are gone) its totals
// under its model. Ordered so that sums of costs come out the same to the
// last bit wherever the rows are read.
func usageSQL(hasTable bool) string {
	totals := `SELECT id AS session_id, model, '` + stream.TierStandard + `' AS tier, coalesce(input_tokens, 0), coalesce(output_tokens, 0),
    coalesce(cache_creation_input_tokens, 0), 0, coalesce(cache_read_input_tokens, 0), total_cost_usd
  FROM s`
	if !hasTable {
		return totals + "\nORDER BY 1, 2, 3"
	}
	return `SELECT session_id, nullif(model, ''), tier, coalesce(input_tokens, 0), coalesce(output_tokens, 0),
    coalesce(cache_creation_input_tokens, 0), coalesce(cache_creation_1h_tokens, 0), coalesce(cache_read_input_tokens, 0), cost_usd
  FROM ` + record.UsageTable + ` WHERE session_id IN (SELECT id FROM s)
UNION ALL
` + totals + ` WHERE NOT EXISTS (SELECT 1 FROM ` + record.UsageTable + ` x WHERE x.session_id = s.id)
ORDER BY 1, 2, 3`
}

// usageRow is one session's use of one model in one tier.
type usageRow struct {
	model  *string
	tier   string
	tokens TokenCounts
	cost   *float64 // reported for this model
}

// sessionFacts is what the statistics by model and the costs need of a
// session.
type sessionFacts struct {
	id        string
	agent     *string
	model     *string
	day       *string
	duration  *int64
	messages  int64
	toolCalls int64
	cost      *float64 // total_cost_usd
	rows      []usageRow
}

// usage computes the sessions by model and the cost and tokens by day, by
// model and in all, from the usage rows of the sessions in s.
func (st *Stats) usage(ctx context.Context, db Querier, with string, hasUsage bool) error {
	var sessions []*sessionFacts
	byID := map[string]*sessionFacts{}
	agentCol := st.agentCol
	if agentCol == "" {
		agentCol = "NULL"
	}
	err := each(ctx, db, with+`SELECT id, model, date(started_at/1000, 'unixepoch'), duration_ms,
		coalesce(total_messages, 0), coalesce(total_tool_calls, 0), total_cost_usd, `+agentCol+` FROM s ORDER BY id`, func(r *sql.Rows) error {
		var f sessionFacts
		var model, day, agent sql.NullString
		var dur, msgs, tools figure
		var cost amount
		if err := r.Scan(&f.id, &model, &day, &dur, &msgs, &tools, &cost, &agent); err != nil {
			return err
		}
		f.messages, f.toolCalls = msgs.n, tools.n
		f.model, f.day, f.duration, f.cost, f.agent = nullStr(model), nullStr(day), nullInt(dur), nullFloat(cost), nullStr(agent)
		sessions = append(sessions, &f)
		byID[f.id] = &f
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, db, with+usageSQL(hasUsage), func(r *sql.Rows) error {
		var id string
		var u usageRow
		var model sql.NullString
		var cost amount
		// Read leniently: a file of an older convlog may hold a token
		// count that is no integer (1e19 as a REAL); it counts as unknown.
		var in, out, cw, cw1h, cr figure
		if err := r.Scan(&id, &model, &u.tier, &in, &out, &cw, &cw1h, &cr, &cost); err != nil {
			return err
		}
		u.tokens = TokenCounts{Input: in.n, Output: out.n, CacheWrite: cw.n, CacheWrite1h: cw1h.n, CacheRead: cr.n}
		u.model, u.cost = nullStr(model), nullFloat(cost)
		if f := byID[id]; f != nil && (u.tokens.Any() || (u.cost != nil && *u.cost != 0)) {
			f.rows = append(f.rows, u)
		}
		return nil
	})
	if err != nil {
		return err
	}
	st.tally(sessions)
	return nil
}

// group is the figures of one day, one model, or all.
type group struct {
	f                                   *CostFigures
	seen, reported, estimated, unpriced map[string]bool
	// for the sessions by model
	durations           []int64
	messages, toolCalls int64
}

func newGroup(f *CostFigures) *group {
	return &group{f: f, seen: map[string]bool{}, reported: map[string]bool{}, estimated: map[string]bool{}, unpriced: map[string]bool{}}
}

// tally adds the sessions up (see the README: how cost and tokens are
// counted). A usage row with a cost is reported; a row without one is
// covered by the session's reported total where it has one, and else
// estimated from the price table, tier by tier.
func (st *Stats) tally(sessions []*sessionFacts) {
	days := map[string]*DayCost{}
	dayGroups := map[string]*group{}
	models := map[string]*ModelCost{}
	modelGroups := map[string]*group{}
	total := newGroup(&st.CostTotal)
	unpriced := map[string]bool{}
	key := func(s *string) string {
		if s == nil {
			return "\x00"
		}
		return *s
	}
	agentGroups := map[string]*group{} // by agent, for the sessions by agent
	for i := range st.ByAgent {
		agentGroups[key(st.ByAgent[i].Agent)] = newGroup(&st.ByAgent[i].Cost)
	}
	for _, s := range sessions {
		dk := key(s.day)
		if days[dk] == nil {
			days[dk] = &DayCost{Day: s.day}
			dayGroups[dk] = newGroup(&days[dk].CostFigures)
		}
		dg := dayGroups[dk]
		dg.seen[s.id], total.seen[s.id] = true, true
		ag := agentGroups[key(s.agent)]
		if ag == nil {
			ag = newGroup(&CostFigures{}) // not in the sessions by agent: not shown
		}
		ag.seen[s.id] = true

		rows := s.rows
		reportedRows := false
		for _, u := range rows {
			reportedRows = reportedRows || u.cost != nil
		}
		if s.cost != nil && !reportedRows {
			// A reported total that no row carries goes under the
			// session's model.
			c := *s.cost
			rows = append(rows, usageRow{model: s.model, tier: stream.TierStandard, cost: &c})
		}
		if len(rows) == 0 {
			rows = []usageRow{{model: s.model, tier: stream.TierStandard}}
		}
		used := map[string]bool{}
		for _, u := range rows {
			mk := key(u.model)
			m := models[mk]
			if m == nil {
				m = &ModelCost{Model: u.model}
				models[mk] = m
				modelGroups[mk] = newGroup(&m.CostFigures)
			}
			mg := modelGroups[mk]
			if !used[mk] {
				used[mk] = true
				mg.seen[s.id] = true
				if s.duration != nil {
					mg.durations = append(mg.durations, *s.duration)
				}
				mg.messages += s.messages
				mg.toolCalls += s.toolCalls
			}
			for _, g := range []*group{dg, mg, ag, total} {
				g.f.TokenCounts.add(u.tokens)
			}
			switch {
			case u.cost != nil:
				for _, g := range []*group{dg, mg, ag, total} {
					g.f.ReportedCostUSD = addFloat(g.f.ReportedCostUSD, *u.cost)
					g.reported[s.id] = true
				}
			case s.cost != nil || !u.tokens.Any():
			default:
				price, ok := PriceOf(mk)
				if !ok {
					unpriced[mk] = true
					for _, g := range []*group{dg, mg, ag, total} {
						g.unpriced[s.id] = true
					}
					continue
				}
				c := price.CostIn(u.tier, u.tokens)
				for _, g := range []*group{dg, mg, ag, total} {
					g.f.EstimatedCostUSD = addFloat(g.f.EstimatedCostUSD, c)
					g.estimated[s.id] = true
				}
			}
		}
	}
	finish := func(g *group) {
		g.f.Sessions, g.f.ReportedSessions = int64(len(g.seen)), int64(len(g.reported))
		g.f.EstimatedSessions, g.f.UnpricedSessions = int64(len(g.estimated)), int64(len(g.unpriced))
	}
	finish(total)
	for _, g := range agentGroups {
		finish(g)
	}
	st.CostByDay = make([]DayCost, 0, len(days))
	for k, d := range days {
		finish(dayGroups[k])
		st.CostByDay = append(st.CostByDay, *d)
	}
	sort.Slice(st.CostByDay, func(i, j int) bool { return deref(st.CostByDay[i].Day) > deref(st.CostByDay[j].Day) })
	st.CostByModel = make([]ModelCost, 0, len(models))
	st.ByModel = make([]ModelStats, 0, len(models))
	for k, m := range models {
		g := modelGroups[k]
		finish(g)
		st.CostByModel = append(st.CostByModel, *m)
		ms := ModelStats{Model: m.Model, Sessions: m.Sessions}
		if n := len(g.seen); n > 0 {
			msgs, tools := float64(g.messages)/float64(n), float64(g.toolCalls)/float64(n)
			ms.AvgMessages, ms.AvgToolCalls = &msgs, &tools
		}
		if len(g.durations) > 0 {
			var sum int64
			for _, d := range g.durations {
				sum += d
			}
			avg := float64(sum) / float64(len(g.durations))
			ms.AvgDurationMS = &avg
		}
		st.ByModel = append(st.ByModel, ms)
	}
	sort.Slice(st.CostByModel, func(i, j int) bool {
		a, b := st.CostByModel[i], st.CostByModel[j]
		if a.Sessions != b.Sessions {
			return a.Sessions > b.Sessions
		}
		return deref(a.Model) < deref(b.Model)
	})
	sort.Slice(st.ByModel, func(i, j int) bool {
		a, b := st.ByModel[i], st.ByModel[j]
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
}
