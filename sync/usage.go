package sync

import (
	"context"
	"strings"

	"github.com/convlog/convlog/record"
)

// Two tables go to the target otherwise than they are in a session file.
//
// tool_calls: in a session file, id is the tool_use id. One agent session
// can be logged by two convlog sessions (its stream by convlog tee, its
// transcript by convlog import), whose tool calls then have the same ids;
// on the target, where every session meets, id is {session}-tool-{tool_use
// id}, so that neither replaces the other, and tool_use_id keeps the
// tool_use id. Files written before tool_use_id existed send their id.
//
// session_usage (record.UsageTable): a session's rows are replaced as a
// whole, as they are in the session file, so that a row the file no longer
// has (usage by message, before the result line's modelUsage came) goes
// from the target too. Files written before the table existed send the
// rows worked out from their messages (record.ReplayUsage).

// toolKeyExpr is the target's tool_calls.id, read from a session file.
const toolKeyExpr = `"session_id" || '-tool-' || "id"`

// withTargetColumns adds to a session file's columns of table those it
// lacks but the target is sent all the same.
func withTargetColumns(table string, local []record.Column) []record.Column {
	if table != "tool_calls" {
		return local
	}
	for _, c := range local {
		if c.Name == "tool_use_id" {
			return local
		}
	}
	return append(local[:len(local):len(local)], record.Column{Name: "tool_use_id", Type: "TEXT"})
}

// sourceExpr reads column col of table from a session file.
func sourceExpr(table, col string) string {
	if table == "tool_calls" {
		switch col {
		case "id":
			return toolKeyExpr
		case "tool_use_id":
			return `"id"`
		}
	}
	return quoteIdent(col)
}

// migrateToolKeys gives the tool calls of a target synced by an older
// convlog (which lacks tool_use_id) their session-scoped ids.
const migrateToolKeys = `UPDATE tool_calls SET tool_use_id = id, id = session_id || '-tool-' || id WHERE tool_use_id IS NULL`

// replacedWhole says whether a session's rows of table are replaced as a
// whole on the target: those that a session file no longer has must go.
// (Tool figures only ever grow: they are upserted, see guard.)
func replacedWhole(table string) bool {
	return table == record.UsageTable
}

// clearFirst is the statement that goes before the rows of table of
// session id, if any.
func clearFirst(table string, r *row) *stmt {
	if !replacedWhole(table) || r.first == "" {
		return nil
	}
	return &stmt{sql: "DELETE FROM " + quoteIdent(table) + " WHERE session_id = ?", args: []any{r.first}}
}

// replayRows works out the usage rows of a file that lacks the table.
func (src *source) replayRows(ctx context.Context, t *table) ([]*row, error) {
	var id string
	if err := src.db.QueryRowContext(ctx, "SELECT id FROM sessions ORDER BY rowid LIMIT 1").Scan(&id); err != nil {
		return nil, err
	}
	usage, err := record.ReplayUsage(ctx, src.db, id)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for i, c := range record.UsageCols {
		idx[c] = i
	}
	var out []*row
	for i, u := range usage {
		vals := u.Values()
		r := &row{src: src, table: t, vals: make([]any, len(t.cols)), rowid: int64(i + 1), pending: -1}
		for j, c := range t.cols {
			r.vals[j] = vals[idx[c]]
		}
		r.size = wireSize(r.vals)
		out = append(out, r)
	}
	return out, nil
}

// grew says whether the file has messages that the target does not have
// yet, by the mark.
func (src *source) grew(ctx context.Context) bool {
	m := src.mark.Tables["messages"]
	if m == nil {
		return true
	}
	var n int64
	if err := src.db.QueryRowContext(ctx, "SELECT count(*) FROM messages WHERE rowid > ?", m.Rowid).Scan(&n); err != nil {
		return true
	}
	return n > 0
}

// hasColumn says whether cols holds name.
func hasColumn(cols []record.Column, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}
