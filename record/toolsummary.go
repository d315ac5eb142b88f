package record

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
)

// ToolsTable holds each session's tool figures, one row per session and
// tool: what the statistics read instead of the tool calls, whose rows
// carry the tools' outputs. It is a table of the databases that sessions
// are gathered into (the archive, a synced database), kept by sync, which
// works the rows out from the session file's tool calls as it sends them;
// session files do not have it. ToolsDDL creates it.
const ToolsTable = "session_tools"

// ToolsDDL creates ToolsTable.
const ToolsDDL = `CREATE TABLE IF NOT EXISTS ` + ToolsTable + ` (
  session_id        TEXT NOT NULL REFERENCES sessions(id),
  tool_name         TEXT NOT NULL,  -- '' when the tool_use named none
  calls             INTEGER,        -- tool_use blocks
  successes         INTEGER,
  errors            INTEGER,
  pending           INTEGER,        -- no tool_result seen
  timed             INTEGER,        -- calls with a duration
  total_duration_ms INTEGER,        -- the sum of their durations
  min_duration_ms   INTEGER,
  max_duration_ms   INTEGER,
  durations         TEXT,           -- every duration, ascending, as a JSON array: exact percentiles
  PRIMARY KEY (session_id, tool_name)
)`

// ToolsCols are the columns of ToolsTable in the order of ToolRow.Values.
var ToolsCols = []string{"session_id", "tool_name", "calls", "successes", "errors", "pending", "timed",
	"total_duration_ms", "min_duration_ms", "max_duration_ms", "durations"}

// ToolsFill fills ToolsTable from the tool_calls of the database it is
// created in (a synced database that sessions reached before it had the
// table, some of whose files may be gone). The durations come in no
// particular order; readers sort them.
var ToolsFill = `INSERT INTO ` + ToolsTable + ` (` + strings.Join(ToolsCols, ", ") + `)
SELECT session_id, coalesce(tool_name, ''), count(*), coalesce(sum(status = 'success'), 0), coalesce(sum(status = 'error'), 0),
  coalesce(sum(status = 'pending'), 0), count(duration_ms), sum(duration_ms), min(duration_ms), max(duration_ms),
  '[' || coalesce(group_concat(duration_ms), '') || ']'
FROM tool_calls WHERE 1 GROUP BY session_id, coalesce(tool_name, '')
ON CONFLICT (session_id, tool_name) DO NOTHING`

// ToolRow is one row of ToolsTable.
type ToolRow struct {
	SessionID                         string
	ToolName                          string
	Calls, Successes, Errors, Pending int64
	Durations                         []int64 // ascending
}

// Values are the row's values in the order of ToolsCols.
func (r *ToolRow) Values() []any {
	var total, lo, hi any
	if n := len(r.Durations); n > 0 {
		var sum int64
		for _, d := range r.Durations {
			sum += d
		}
		total, lo, hi = sum, r.Durations[0], r.Durations[n-1]
	}
	return []any{r.SessionID, r.ToolName, r.Calls, r.Successes, r.Errors, r.Pending, int64(len(r.Durations)),
		total, lo, hi, DurationsText(r.Durations)}
}

// DurationsText writes durations as the JSON array of ToolsTable.
func DurationsText(ds []int64) string {
	b := make([]byte, 0, 2+len(ds)*6)
	b = append(b, '[')
	for i, d := range ds {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, d, 10)
	}
	return string(append(b, ']'))
}

// ParseDurations reads the durations column of ToolsTable, adding them to
// ds. Anything that is not an integer is skipped.
func ParseDurations(s string, ds []int64) []int64 {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "[")
	s = strings.TrimSuffix(s, "]")
	for s != "" {
		var f string
		f, s, _ = strings.Cut(s, ",")
		if n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64); err == nil {
			ds = append(ds, n)
		}
	}
	return ds
}

// ToolRows works out the rows of ToolsTable from the tool calls that db
// holds, by session and tool, ordered by both. Only the columns the
// figures need are read.
func ToolRows(ctx context.Context, db Querier) ([]ToolRow, error) {
	rows, err := db.QueryContext(ctx, "SELECT session_id, tool_name, status, duration_ms FROM tool_calls")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type key struct{ session, tool string }
	byKey := map[key]*ToolRow{}
	var (
		session      string
		tool, status sql.NullString
		dur          sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&session, &tool, &status, &dur); err != nil {
			return nil, err
		}
		k := key{session, tool.String}
		r := byKey[k]
		if r == nil {
			r = &ToolRow{SessionID: session, ToolName: tool.String}
			byKey[k] = r
		}
		r.Calls++
		switch status.String {
		case "success":
			r.Successes++
		case "error":
			r.Errors++
		case "pending":
			r.Pending++
		}
		if dur.Valid {
			r.Durations = append(r.Durations, dur.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]ToolRow, 0, len(byKey))
	for _, r := range byKey {
		slices.Sort(r.Durations)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ToolRow) int {
		if c := strings.Compare(a.SessionID, b.SessionID); c != 0 {
			return c
		}
		return strings.Compare(a.ToolName, b.ToolName)
	})
	return out, nil
}
