package archive

import (
	"context"
	"database/sql"

	"github.com/convlog/convlog/record"
)

// The statistics read only the sessions, their usage rows and their tool
// figures, a few hundred bytes a session, where the whole archive holds
// every line and tool output again: taking in 500 MB of new session files
// whole took longer than importing them. So `convlog stats` brings only
// those tables up to date (UpdateSummaries), and the lines and tool calls
// of those files come in with the next command that reads them (sql,
// prune), through the same engine and its marks, which say per table what
// the archive has of each file.

// summaryTables are what UpdateSummaries takes in.
var summaryTables = []string{"sessions", record.UsageTable, record.ToolsTable}

// summariesDDL records the files whose summaries the archive holds as they
// are now, like archive_sources does for files it holds whole.
const summariesDDL = `CREATE TABLE IF NOT EXISTS archive_summaries (
  path       TEXT PRIMARY KEY, -- a session file, absolute
  size       INTEGER,          -- as in archive_sources
  mtime      INTEGER,
  wal_size   INTEGER,
  wal_mtime  INTEGER,
  session_id TEXT,
  taken_at   INTEGER
)`

// UpdateSummaries brings up to date what the statistics read of the
// session files: each session's row, usage rows and tool figures. A file
// already held whole, or whose summary is current, is not opened.
func (a *Archive) UpdateSummaries(ctx context.Context) (*Updated, error) {
	return a.update(ctx, true)
}

// QuerySummaries is Query for the statistics: it brings only the summaries
// up to date (UpdateSummaries).
func (a *Archive) QuerySummaries(ctx context.Context, problem func(error)) (*sql.DB, error) {
	return a.query(ctx, problem, true)
}
