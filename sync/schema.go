package sync

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/convlog/convlog/record"
)

// metaTable holds facts about the target itself. Its id tells one target
// database from another behind the same URL: a database destroyed and
// created again (the seed's cure for a schema mismatch) gets a new id, so
// the marks of what was sent to the old one do not hold it back.
const metaTable = "convlog_target"

// targetInfo is what the sync needs to know of a target after preparing it.
type targetInfo struct {
	id   string
	cols map[string]map[string]bool // table → its columns
	pk   map[string][]string        // table → primary key columns (the upsert key)
}

// prepareTarget brings the target to the schema (creating it on a fresh
// database, adding missing columns to an older one) and learns its id. A
// target whose tables cannot take convlog's rows gets an error naming the
// table and column, and nothing is written.
func (s *syncer) prepareTarget(ctx context.Context) (*targetInfo, error) {
	var lastErr error
	// Another try covers another process migrating the same target at the
	// same moment (duplicate column, table already there).
	for attempt := 0; attempt < 3; attempt++ {
		info, err := s.prepareOnce(ctx)
		if err == nil {
			return info, nil
		}
		lastErr = err
		// (Requests that may pass on a second try were tried again already.)
		e, ok := err.(*Error)
		if !ok || e.Kind != KindServer || !raceLike(e) {
			return nil, err
		}
	}
	return nil, lastErr
}

func raceLike(e *Error) bool {
	m := strings.ToLower(e.Msg)
	return strings.Contains(m, "duplicate column") || strings.Contains(m, "already exists")
}

func (s *syncer) prepareOnce(ctx context.Context) (*targetInfo, error) {
	schema := s.opts.Schema
	tables := append(append([]string(nil), schema.Order()...), metaTable, record.ToolsTable)
	have, err := s.tableColumns(ctx, tables)
	if err != nil {
		return nil, err
	}
	mirror, err := mirrorDB(ctx, have)
	if err != nil {
		return nil, fmt.Errorf("mirror the target's tables: %w", err)
	}
	defer mirror.Close()
	plan, err := schema.Plan(ctx, mirror)
	if err != nil {
		return nil, &Error{Kind: KindSchema, Err: err,
			Msg: fmt.Sprintf("the tables of %s do not fit convlog's schema: %v; nothing was written. Sync to a new database, or fix that table", s.display, err)}
	}
	// Rows are upserted by their primary key, so the target must have the
	// same one, or ON CONFLICT has nothing to match.
	for _, table := range schema.Order() {
		cols := have[table]
		if len(cols) == 0 {
			continue
		}
		byName := map[string]record.Column{}
		for _, c := range cols {
			byName[strings.ToLower(c.Name)] = c
		}
		for _, want := range schema.Tables()[table] {
			if got, ok := byName[strings.ToLower(want.Name)]; ok && want.PK && !got.PK {
				return nil, &Error{Kind: KindSchema,
					Msg: fmt.Sprintf("the tables of %s do not fit convlog's schema: table %s column %s is not its primary key, so rows could not be updated in place; nothing was written. Sync to a new database, or fix that table", s.display, table, want.Name)}
			}
		}
	}
	hasMeta := len(have[metaTable]) > 0
	id := ""
	if hasMeta {
		if id, err = s.targetID(ctx); err != nil {
			return nil, err
		}
	}
	needTools := len(have[record.ToolsTable]) == 0
	if len(plan) > 0 || id == "" || needTools {
		var stmts []stmt
		for _, q := range plan {
			stmts = append(stmts, stmt{sql: q})
		}
		if tc := have["tool_calls"]; len(tc) > 0 && !hasColumn(tc, "tool_use_id") {
			stmts = append(stmts, stmt{sql: migrateToolKeys})
		}
		if needTools {
			stmts = append(stmts, toolsMigration()...)
		}
		stmts = append(stmts,
			stmt{sql: "CREATE TABLE IF NOT EXISTS " + metaTable + " (key TEXT PRIMARY KEY, value TEXT)"},
			stmt{sql: "INSERT INTO " + metaTable + " (key, value) VALUES ('id', ?) ON CONFLICT (key) DO NOTHING", args: []any{uuid.NewString()}})
		if len(plan) > 0 {
			stmts = append(stmts, stmt{sql: fmt.Sprintf("PRAGMA user_version = %d", record.SchemaVersion)})
		}
		if err := s.apply(ctx, stmts); err != nil {
			return nil, err
		}
		if id, err = s.targetID(ctx); err != nil {
			return nil, err
		}
		if id == "" {
			return nil, &Error{Kind: KindServer, Msg: fmt.Sprintf("%s: could not record the target's id in table %s", s.display, metaTable)}
		}
		s.report.Migrated = len(plan) > 0 || needTools
	}
	info := &targetInfo{id: id, cols: map[string]map[string]bool{}, pk: map[string][]string{}}
	for _, table := range schema.Order() {
		set := map[string]bool{}
		for _, c := range have[table] {
			set[c.Name] = true
		}
		for _, c := range schema.Tables()[table] {
			set[c.Name] = true // added by the plan if it was missing
			if c.PK {
				info.pk[table] = append(info.pk[table], c.Name)
			}
		}
		info.cols[table] = set
	}
	toolsInfo(info, have[record.ToolsTable])
	return info, nil
}

// tableColumns reads the columns of all the tables in one request.
func (s *syncer) tableColumns(ctx context.Context, tables []string) (map[string][]record.Column, error) {
	var parts []string
	for _, t := range tables {
		lit := quoteString(t)
		parts = append(parts, `SELECT `+lit+`, name, type, "notnull", dflt_value, pk FROM pragma_table_info(`+lit+`)`)
	}
	have := map[string][]record.Column{}
	err := s.read(ctx, strings.Join(parts, " UNION ALL "), nil, func(rows *sql.Rows) error {
		var (
			table       string
			c           record.Column
			notnull, pk int64
		)
		if err := rows.Scan(&table, &c.Name, &c.Type, &notnull, &c.Default, &pk); err != nil {
			return err
		}
		c.NotNull, c.PK = notnull != 0, pk != 0
		have[table] = append(have[table], c)
		return nil
	})
	return have, err
}

func (s *syncer) targetID(ctx context.Context) (string, error) {
	var id string
	err := s.read(ctx, "SELECT value FROM "+metaTable+" WHERE key = 'id'", nil, func(rows *sql.Rows) error {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return err
		}
		id = v.String
		return nil
	})
	return id, err
}

// mirrorDB is an in-memory database with the target's tables as far as
// record.Schema.Plan looks at them (names, types, primary keys), so that Plan runs locally on what one request fetched.
func mirrorDB(ctx context.Context, have map[string][]record.Column) (*sql.DB, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	// Every connection to :memory: is a database of its own.
	db.SetMaxOpenConns(1)
	for table, cols := range have {
		if len(cols) == 0 {
			continue
		}
		var defs, pk []string
		for _, c := range cols {
			d := quoteIdent(c.Name) + " " + c.Type
			if c.NotNull {
				d += " NOT NULL"
			}
			defs = append(defs, d)
			if c.PK {
				pk = append(pk, quoteIdent(c.Name))
			}
		}
		if len(pk) > 0 {
			defs = append(defs, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+quoteIdent(table)+" ("+strings.Join(defs, ", ")+")"); err != nil {
			db.Close()
			return nil, fmt.Errorf("table %s: %w", table, err)
		}
	}
	return db, nil
}

func quoteIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
