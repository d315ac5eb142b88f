package sync

import (
	"context"
	"slices"
	"strings"

	"github.com/convlog/convlog/record"
)

// The target's tool figures (record.ToolsTable) are the sync's own: a
// session file has no such table. For each file sent, they are worked out
// from its tool calls and replace the session's rows on the target, as its
// usage rows do; a target that lacks the table gets it on the next sync,
// filled from the tool calls it already holds (sessions whose files are
// gone included), in the same request that creates it. A tool's figures
// only grow (more calls, fewer of them pending), so they are upserted, and
// an older copy of a session file does not undo newer ones (see guard).

// toolsPK is the primary key of record.ToolsTable.
var toolsPK = []string{"session_id", "tool_name"}

// wants says whether this run sends table (Options.Tables).
func (s *syncer) wants(table string) bool {
	return len(s.opts.Tables) == 0 || slices.Contains(s.opts.Tables, table)
}

// toolsTable is record.ToolsTable as a table of one session file, or nil
// when this run does not send it.
func (s *syncer) toolsTable() *table {
	if !s.wants(record.ToolsTable) || s.info.cols[record.ToolsTable] == nil {
		return nil
	}
	t := &table{name: record.ToolsTable, policy: whole, pendingIdx: -1, keyIdx: 0, derived: true}
	for _, c := range record.ToolsCols {
		t.cols = append(t.cols, c)
		t.exprs = append(t.exprs, quoteIdent(c))
	}
	t.shape = shapeKey{table: t.name, cols: strings.Join(t.cols, ",")}
	return t
}

// toolRows works out the file's rows of record.ToolsTable.
func (src *source) toolRows(ctx context.Context, t *table) ([]*row, error) {
	rows, err := record.ToolRows(ctx, src.db)
	if err != nil {
		return nil, err
	}
	out := make([]*row, 0, len(rows))
	for i := range rows {
		r := &row{src: src, table: t, vals: rows[i].Values(), rowid: int64(i + 1), pending: -1}
		r.size = wireSize(r.vals)
		out = append(out, r)
	}
	return out, nil
}

// toolsMigration is what a target without record.ToolsTable is sent: the
// table, filled from its tool calls.
func toolsMigration() []stmt {
	return []stmt{{sql: record.ToolsDDL}, {sql: record.ToolsFill}}
}

// toolsInfo adds record.ToolsTable to what the sync knows of the target.
func toolsInfo(info *targetInfo, have []record.Column) {
	set := map[string]bool{}
	for _, c := range have {
		set[c.Name] = true
	}
	for _, c := range record.ToolsCols {
		set[c] = true
	}
	info.cols[record.ToolsTable] = set
	info.pk[record.ToolsTable] = toolsPK
}
