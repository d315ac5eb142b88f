package sync

import (
	"strconv"
	"strings"

	"github.com/convlog/convlog/record"
)

const (
	// rowsPerStmt: rows are sent as multi-row upserts, which the server
	// parses and plans once per statement; measured on the local server,
	// 100 rows a statement was several times faster than one.
	rowsPerStmt = 100
	// maxVars keeps a statement under SQLite's default limit of 32766
	// bound parameters.
	maxVars = 30000
)

// shapeKey names a statement shape: a table and the columns sent.
type shapeKey struct {
	table string
	cols  string
}

// shape builds the upsert statements of one table and column list.
type shape struct {
	ncols  int
	prefix string // INSERT INTO t (cols) VALUES
	tuple  string // (?,?,…): no spaces, which the client's SQL lexer would tokenize too
	suffix string // ON CONFLICT … DO UPDATE …
	byRows map[int]string
}

func (s *syncer) shapeOf(t *table) *shape {
	if sh, ok := s.shapes[t.shape]; ok {
		return sh
	}
	if s.shapes == nil {
		s.shapes = map[shapeKey]*shape{}
	}
	sh := newShape(t.name, t.cols, s.info.pk[t.name])
	s.shapes[t.shape] = sh
	return sh
}

func newShape(table string, cols, pk []string) *shape {
	qt := quoteIdent(table)
	isPK := map[string]bool{}
	for _, c := range pk {
		isPK[c] = true
	}
	var set []string
	for _, c := range cols {
		if !isPK[c] {
			q := quoteIdent(c)
			set = append(set, q+" = excluded."+q)
		}
	}
	conflict := " ON CONFLICT (" + colList(pk) + ")"
	if len(set) == 0 {
		conflict += " DO NOTHING"
	} else {
		conflict += " DO UPDATE SET " + strings.Join(set, ", ")
		if g := guard(table, cols); g != "" {
			conflict += " WHERE " + g
		}
	}
	return &shape{
		ncols:  len(cols),
		prefix: "INSERT INTO " + qt + " (" + colList(cols) + ") VALUES ",
		tuple:  "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")",
		suffix: conflict,
		byRows: map[int]string{},
	}
}

// guard keeps an older copy of a row from undoing a newer one on the
// target, when two syncs of the same session cross (a `convlog sync` run
// while `convlog tee` syncs at its end): a completed tool call is not set
// back to pending, an ended session not back to running.
func guard(table string, cols []string) string {
	has := func(c string) bool {
		for _, x := range cols {
			if x == c {
				return true
			}
		}
		return false
	}
	switch {
	case table == "tool_calls" && has("status"):
		return `excluded."status" IS NOT 'pending' OR "tool_calls"."status" IS NULL OR "tool_calls"."status" = 'pending'`
	case table == "sessions" && has("ended_at"):
		return `excluded."ended_at" IS NOT NULL OR "sessions"."ended_at" IS NULL`
	case table == record.ToolsTable && has("calls") && has("pending"):
		// A tool's calls only grow, and its pending calls only complete.
		return `excluded."calls" > "` + record.ToolsTable + `"."calls" OR (excluded."calls" = "` + record.ToolsTable +
			`"."calls" AND excluded."pending" <= "` + record.ToolsTable + `"."pending")`
	}
	return ""
}

func (sh *shape) sql(n int) string {
	if q, ok := sh.byRows[n]; ok {
		return q
	}
	var b strings.Builder
	b.Grow(len(sh.prefix) + n*(len(sh.tuple)+2) + len(sh.suffix))
	b.WriteString(sh.prefix)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sh.tuple)
	}
	b.WriteString(sh.suffix)
	q := b.String()
	sh.byRows[n] = q
	return q
}

// statements turns a chunk's rows into multi-row upserts, keeping their
// order (parents before children: sessions, messages, tool calls).
func (s *syncer) statements(rows []*row) []stmt {
	var out []stmt
	for i := 0; i < len(rows); {
		t := rows[i].table
		if c := clearFirst(t.name, rows[i]); c != nil {
			out = append(out, *c)
		}
		sh := s.shapeOf(t)
		limit := min(rowsPerStmt, max(1, maxVars/max(1, sh.ncols)))
		j := i + 1
		for j < len(rows) && j-i < limit && rows[j].table.shape == t.shape && rows[j].first == "" {
			j++
		}
		args := make([]any, 0, (j-i)*sh.ncols)
		for _, r := range rows[i:j] {
			args = append(args, r.vals...)
		}
		out = append(out, stmt{sql: sh.sql(j - i), args: args})
		i = j
	}
	return out
}

// String is for test failures.
func (st stmt) String() string { return st.sql + " -- " + strconv.Itoa(len(st.args)) + " args" }
