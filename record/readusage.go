package record

import (
	"context"
	"database/sql"
	"math"
)

// Usage returns the usage rows of session id: the file's own, or for a
// file written before UsageTable, the rows worked out from its messages.
func (r *Reader) Usage(ctx context.Context, id string) ([]UsageRow, error) {
	if !r.hasTable(ctx, UsageTable) {
		return ReplayUsage(ctx, r.tx, id)
	}
	return ReadUsage(ctx, r.tx, id)
}

// ReadUsage reads the rows of UsageTable in q: session id's, or every
// session's when id is "".
func ReadUsage(ctx context.Context, q Querier, id string) ([]UsageRow, error) {
	query := `SELECT session_id, model, tier, coalesce(source, ''), coalesce(requests, 0), coalesce(input_tokens, 0),
		coalesce(output_tokens, 0), coalesce(cache_creation_input_tokens, 0), coalesce(cache_creation_1h_tokens, 0),
		coalesce(cache_read_input_tokens, 0), cost_usd FROM ` + UsageTable
	var args []any
	if id != "" {
		query += " WHERE session_id = ?"
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY session_id, model, tier", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UsageRow
	for rows.Next() {
		var u UsageRow
		var figs [6]any
		var cost sql.NullFloat64
		var session sql.NullString
		if err := rows.Scan(&session, &u.Model, &u.Tier, &u.Source, &figs[0], &figs[1], &figs[2], &figs[3],
			&figs[4], &figs[5], &cost); err != nil {
			return nil, err
		}
		// Read leniently: a file of an older convlog may hold a count that
		// is no integer (1e19 as a REAL); it counts as nothing known.
		for i, p := range []*int64{&u.Requests, &u.Input, &u.Output, &u.CacheCreation, &u.CacheCreation1h, &u.CacheRead} {
			*p = wholeCount(figs[i])
		}
		u.SessionID = session.String
		if cost.Valid && !math.IsInf(cost.Float64, 0) && !math.IsNaN(cost.Float64) {
			u.Cost = &cost.Float64
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (r *Reader) hasTable(ctx context.Context, name string) bool {
	var n int
	r.tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n)
	return n > 0
}

// wholeCount is a count as the database holds it: an integer, or 0 for
// anything else (a REAL too large for an int64, text).
func wholeCount(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case float64:
		if v == math.Trunc(v) && v >= -(1<<63) && v < 1<<63 {
			return int64(v)
		}
	}
	return 0
}
