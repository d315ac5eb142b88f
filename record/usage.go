package record

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/convlog/convlog/stream"
)

// UsageTable holds each session's tokens and cost by model and pricing
// tier (schema.sql says which lines count). Session files written by this
// convlog carry it, kept by their writer; for older files, sync works the
// rows out from the messages as it sends them (ReplayUsage), so that the
// archive and a synced database have them for every session.
const UsageTable = "session_usage"

// UsageRow is one row of UsageTable.
type UsageRow struct {
	SessionID string
	Model     string
	Tier      string
	Source    string
	Requests  int64
	stream.Usage
	Cost *float64
}

// UsageCols are the columns of UsageTable in the order of UsageRow.Values.
var UsageCols = []string{"session_id", "model", "tier", "source", "requests", "input_tokens", "output_tokens",
	"cache_creation_input_tokens", "cache_creation_1h_tokens", "cache_read_input_tokens", "cost_usd"}

// Values are the row's values in the order of UsageCols.
func (r UsageRow) Values() []any {
	var cost any
	if r.Cost != nil {
		cost = *r.Cost
	}
	if r.Cost != nil && (math.IsInf(*r.Cost, 0) || math.IsNaN(*r.Cost)) {
		cost = nil // a figure that fits no column is unknown (see stream.Unknown)
	}
	return []any{r.SessionID, r.Model, r.Tier, r.Source, r.Requests, figureArg(r.Input), figureArg(r.Output),
		figureArg(r.CacheCreation), figureArg(r.CacheCreation1h), figureArg(r.CacheRead), cost}
}

// UsageRows applies the rule of UsageTable to what a Processor found in a
// session (f, as of its last Totals) whose model is model (the sessions
// row's). Rows that hold no token and no cost are left out.
func UsageRows(sessionID, model string, f *stream.Facts) []UsageRow {
	var rows []UsageRow
	keep := func(r UsageRow) {
		if r.Input == 0 && r.Output == 0 && r.CacheCreation == 0 && r.CacheRead == 0 && (r.Cost == nil || *r.Cost == 0) {
			return
		}
		// One row per model and tier, whatever parts it is made of.
		for i := range rows {
			if o := &rows[i]; o.Model == r.Model && o.Tier == r.Tier {
				o.Requests += r.Requests
				o.Input += r.Input
				o.Output += r.Output
				o.CacheCreation += r.CacheCreation
				o.CacheCreation1h += r.CacheCreation1h
				o.CacheRead += r.CacheRead
				if r.Cost != nil {
					c := *r.Cost
					if o.Cost != nil {
						c += *o.Cost
					}
					o.Cost = &c
				}
				return
			}
		}
		rows = append(rows, r)
	}
	switch f.UsageKind {
	case stream.FromTotals:
		r := UsageRow{SessionID: sessionID, Model: model, Tier: stream.TierStandard, Source: stream.FromTotals, Usage: f.Tokens}
		if f.HasCost {
			c := f.CostUSD
			r.Cost = &c
		}
		keep(r)
	case stream.FromResult, stream.FromMessages:
		for _, u := range f.ByModel {
			r := UsageRow{SessionID: sessionID, Model: u.Model, Tier: u.Tier, Source: f.UsageKind, Requests: u.Requests, Usage: u.Usage}
			if u.HasCost {
				c := u.CostUSD
				r.Cost = &c
			}
			keep(r)
		}
	}
	return rows
}

// Execer runs statements: a *sql.DB, *sql.Conn or *sql.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// usageInsert inserts one row of UsageTable.
var usageInsert = "INSERT INTO " + UsageTable + " (" + strings.Join(UsageCols, ", ") + ") VALUES (" +
	strings.TrimSuffix(strings.Repeat("?, ", len(UsageCols)), ", ") + ")"

// WriteUsage replaces the usage rows of session id with rows.
func WriteUsage(ctx context.Context, db Execer, id string, rows []UsageRow) error {
	if _, err := db.ExecContext(ctx, "DELETE FROM "+UsageTable+" WHERE session_id = ?", id); err != nil {
		return fmt.Errorf("write %s: %w", UsageTable, err)
	}
	for _, r := range rows {
		if _, err := db.ExecContext(ctx, usageInsert, r.Values()...); err != nil {
			return fmt.Errorf("write %s: %w", UsageTable, err)
		}
	}
	return nil
}

// Querier is what reading needs of a database.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReplayUsage works out the usage rows of session id from the lines the
// database holds of it, through the same Processor that logged them, so
// that the rows are those its writer would have kept. Only assistant and
// result lines are read: no other line counts.
func ReplayUsage(ctx context.Context, db Querier, id string) ([]UsageRow, error) {
	var model sql.NullString
	rows, err := db.QueryContext(ctx, "SELECT model FROM sessions WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		if err := rows.Scan(&model); err != nil {
			rows.Close()
			return nil, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	p := stream.NewProcessor(nopSink{})
	rows, err = db.QueryContext(ctx, "SELECT raw_message FROM messages WHERE session_id = ? AND type IN ('assistant', 'result') ORDER BY sequence", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var raw sql.RawBytes
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		p.Line(raw, 0)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return UsageRows(id, model.String, p.Totals()), nil
}

type nopSink struct{}

func (nopSink) Message(*stream.Message)       {}
func (nopSink) ToolUse(*stream.ToolUse)       {}
func (nopSink) ToolResult(*stream.ToolResult) {}

// StatsIndex covers the columns the tool statistics read, so that they
// are read without the tools' outputs. The archive keeps it; it is not in
// schema.sql, as session files are written for speed.
const StatsIndex = "archive_tool_calls_stats"

const statsIndexDDL = `CREATE INDEX IF NOT EXISTS ` + StatsIndex + ` ON tool_calls(session_id, tool_name, status, duration_ms)`

// legacyUsageTable is where convlog kept usage rows in the archive before
// UsageTable; it is dropped.
const legacyUsageTable = "archive_usage"

// HasStatsExtras says whether db has what CreateStatsExtras makes.
func HasStatsExtras(ctx context.Context, db Querier) (bool, error) {
	var n int64
	rows, err := db.QueryContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '`+StatsIndex+`'`)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, err
		}
	}
	return n == 1, rows.Err()
}

// CreateStatsExtras makes what speeds up the statistics of a database that
// is read more often than written (the archive): the index StatsIndex. It
// drops the usage table of older archives, which UsageTable replaces.
func CreateStatsExtras(ctx context.Context, db Execer) error {
	for _, ddl := range []string{statsIndexDDL, "DROP TABLE IF EXISTS " + legacyUsageTable} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// FillUsage gives the sessions ids that have no usage rows in db the rows
// worked out from their messages (ReplayUsage): for databases that hold
// sessions whose files were written before UsageTable and are gone.
func FillUsage(ctx context.Context, db interface {
	Execer
	Querier
}, ids []string) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, `SELECT value FROM json_each(?) WHERE value NOT IN (SELECT session_id FROM `+UsageTable+`)`, string(list))
	if err != nil {
		return err
	}
	var todo []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range todo {
		u, err := ReplayUsage(ctx, db, id)
		if err != nil {
			return fmt.Errorf("usage of session %s: %w", id, err)
		}
		if err := WriteUsage(ctx, db, id, u); err != nil {
			return err
		}
	}
	return nil
}
