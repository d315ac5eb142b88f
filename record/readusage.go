package record

import (
	"context"
	"database/sql"
)

// Usage returns the usage rows of session id: the file's own, or for a
// file written before UsageTable, the rows worked out from its messages.
func (r *Reader) Usage(ctx context.Context, id string) ([]UsageRow, error) {
	if !r.hasTable(ctx, UsageTable) {
		return ReplayUsage(ctx, r.tx, id)
	}
	rows, err := r.tx.QueryContext(ctx, `SELECT model, tier, coalesce(source, ''), coalesce(requests, 0), coalesce(input_tokens, 0),
		coalesce(output_tokens, 0), coalesce(cache_creation_input_tokens, 0), coalesce(cache_creation_1h_tokens, 0),
		coalesce(cache_read_input_tokens, 0), cost_usd FROM `+UsageTable+` WHERE session_id = ? ORDER BY model, tier`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UsageRow
	for rows.Next() {
		u := UsageRow{SessionID: id}
		var cost sql.NullFloat64
		if err := rows.Scan(&u.Model, &u.Tier, &u.Source, &u.Requests, &u.Input, &u.Output, &u.CacheCreation,
			&u.CacheCreation1h, &u.CacheRead, &cost); err != nil {
			return nil, err
		}
		if cost.Valid {
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
