// Package record is the session database: creating and writing session files,
// reading them back, and keeping any SQLite or libSQL database on convlog's
// schema.
package record

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SchemaVersion is stored in PRAGMA user_version of every session file.
// Raise it with every change to schema.sql.
const SchemaVersion = 5

// DB is what schema work needs of a database: *sql.DB, *sql.Conn and *sql.Tx
// all qualify, for local files and remote libSQL alike.
type DB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Column is one column as SQLite reports it.
type Column struct {
	Name    string
	Type    string
	NotNull bool
	Default sql.NullString
	PK      bool
}

// Schema is schema.sql together with the tables and columns it defines,
// learnt when first asked for: running the script in an in-memory database
// takes about 2 ms, which a command that never looks at them (convlog
// --version, a search of an archive that is up to date) should not wait.
type Schema struct {
	SQL string

	once   sync.Once
	tables map[string][]Column
	order  []string
	err    error
}

// Tables are the schema's tables and their columns, in declaration order.
func (s *Schema) Tables() map[string][]Column {
	s.mustLearn()
	return s.tables
}

// Order is the schema's table names, in declaration order.
func (s *Schema) Order() []string {
	s.mustLearn()
	return s.order
}

// NewSchema is the schema of script, which is learnt when first asked for
// and must be right: a script that does not run panics then. (ParseSchema
// reports the error instead; the tests read the embedded schema with it.)
func NewSchema(script string) *Schema {
	return &Schema{SQL: script}
}

func (s *Schema) mustLearn() {
	if err := s.learn(); err != nil {
		panic(err)
	}
}

// learn learns the tables and columns of the script by running it in an
// in-memory database, so that the script stays the one source of truth.
func (s *Schema) learn() error {
	s.once.Do(func() {
		db, err := sql.Open("sqlite", ":memory:")
		if err != nil {
			s.err = err
			return
		}
		defer db.Close()
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, s.SQL); err != nil {
			s.err = fmt.Errorf("schema.sql: %w", err)
			return
		}
		names, err := tableNames(ctx, db)
		if err != nil {
			s.err = err
			return
		}
		tables := map[string][]Column{}
		for _, name := range names {
			cols, err := TableColumns(ctx, db, name)
			if err != nil {
				s.err = err
				return
			}
			tables[name] = cols
		}
		s.tables, s.order = tables, names
	})
	return s.err
}

// ParseSchema is the schema of script, learnt now.
func ParseSchema(script string) (*Schema, error) {
	s := NewSchema(script)
	if err := s.learn(); err != nil {
		return nil, err
	}
	return s, nil
}

func tableNames(ctx context.Context, db DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// TableColumns lists a table's columns; none if the table does not exist.
func TableColumns(ctx context.Context, db DB, table string) ([]Column, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		var notnull, pk int64
		if err := rows.Scan(&c.Name, &c.Type, &notnull, &c.Default, &pk); err != nil {
			return nil, err
		}
		c.NotNull, c.PK = notnull != 0, pk != 0
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// Plan compares a database with the schema and returns the statements that
// bring it up to date: the whole script when tables are missing (it only
// creates what is missing) and one ALTER TABLE … ADD COLUMN per missing
// column. A column whose type differs, or a missing column that cannot be
// added, makes an error that names the table and column; then nothing is to
// be run.
func (s *Schema) Plan(ctx context.Context, db DB) ([]string, error) {
	var stmts []string
	create := false
	for _, table := range s.Order() {
		have, err := TableColumns(ctx, db, table)
		if err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", table, err)
		}
		if len(have) == 0 {
			create = true
			continue
		}
		byName := make(map[string]Column, len(have))
		for _, c := range have {
			byName[strings.ToLower(c.Name)] = c
		}
		for _, want := range s.Tables()[table] {
			got, ok := byName[strings.ToLower(want.Name)]
			if !ok {
				if want.PK || (want.NotNull && !want.Default.Valid) {
					return nil, fmt.Errorf("table %s lacks column %s, which cannot be added to an existing table", table, want.Name)
				}
				def := ""
				if want.Default.Valid {
					def = " DEFAULT " + want.Default.String
				}
				stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s%s", table, want.Name, want.Type, def))
				continue
			}
			if !strings.EqualFold(got.Type, want.Type) {
				return nil, fmt.Errorf("table %s column %s has type %q where convlog needs %q", table, want.Name, got.Type, want.Type)
			}
		}
	}
	if create || len(stmts) > 0 {
		// The script is idempotent (IF NOT EXISTS) and also creates indexes
		// that older databases lack; after the added columns, since an index
		// may name one of them.
		stmts = append(stmts, s.SQL)
	}
	return stmts, nil
}

// Ensure brings a local database to the schema and sets user_version.
func (s *Schema) Ensure(ctx context.Context, db DB) error {
	var version int64
	if err := queryInt(ctx, db, "PRAGMA user_version", &version); err != nil {
		return err
	}
	if version == SchemaVersion {
		return nil
	}
	var stmts []string
	var err error
	if version == 0 && isEmpty(ctx, db) {
		// A new file: the script as it is, without the five queries that
		// comparing it with the file would take (a tenth of importing a
		// small transcript).
		stmts = []string{s.SQL}
	} else if stmts, err = s.Plan(ctx, db); err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("apply schema: %w", err)
		}
	}
	if version < SchemaVersion {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
			return err
		}
	}
	return nil
}

// isEmpty says whether db has no schema at all.
func isEmpty(ctx context.Context, db DB) bool {
	var n int64 = -1
	return queryInt(ctx, db, "SELECT count(*) FROM sqlite_master", &n) == nil && n == 0
}

func queryInt(ctx context.Context, db DB, q string, dst *int64) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(dst); err != nil {
			return err
		}
	}
	return rows.Err()
}
