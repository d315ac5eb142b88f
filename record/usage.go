package record

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// The stats extras make a repeated `convlog stats` cheap on a database that
// is read more often than written (the archive): the usage of each session
// by model, worked out once from the JSON of its messages, and an index
// that holds the tool figures apart from the tools' large outputs. They are
// not in schema.sql: session files are written for speed.

// UsageCTE is tokens and reported cost per session and model, as u:
//   - a: sessions whose result lines carry modelUsage. It is cumulative
//     within one agent process, like total_cost_usd: the last result line
//     of each agent session counts, summed over agent sessions.
//   - b: sessions with no result line that carries usage: the assistant
//     messages, once per API message id (its last line, as the stored
//     totals count them), by the message's own model, with the part of the
//     cache writes that went to the one-hour cache. The last line is
//     found by its sequence, then fetched by its id ({session}-msg-{seq}):
//     sorting the lines themselves took twice as long.
//   - c: the others (result lines without modelUsage): the session's
//     totals under the session's model.
//
// Each part is worked out per session, so u over some sessions is the rows
// of each of them alone: the archive keeps them in a table (UsageTable).
const UsageCTE = `,
last_result AS (
  SELECT m.session_id, m.raw_message,
    row_number() OVER (PARTITION BY m.session_id, json_extract(m.raw_message, '$.session_id') ORDER BY m.sequence DESC) AS rn
  FROM messages m
  WHERE m.type = 'result' AND m.session_id IN (SELECT id FROM s)
    AND typeof(m.raw_message) = 'text' AND json_valid(m.raw_message)
    AND json_type(m.raw_message, '$.modelUsage') = 'object'
),
a AS (
  SELECT r.session_id, j.key AS model,
    sum(json_extract(j.value, '$.inputTokens')) AS input_tokens,
    sum(json_extract(j.value, '$.outputTokens')) AS output_tokens,
    sum(json_extract(j.value, '$.cacheCreationInputTokens')) AS cache_creation_input_tokens,
    0 AS cache_creation_1h_tokens,
    sum(json_extract(j.value, '$.cacheReadInputTokens')) AS cache_read_input_tokens,
    sum(json_extract(j.value, '$.costUSD')) AS cost_usd
  FROM last_result r, json_each(r.raw_message, '$.modelUsage') j
  WHERE r.rn = 1
  GROUP BY r.session_id, j.key
),
b_sessions AS (
  SELECT id FROM s WHERE id NOT IN (
    SELECT session_id FROM messages WHERE type = 'result' AND session_id IN (SELECT id FROM s)
      AND typeof(raw_message) = 'text' AND json_valid(raw_message)
      AND json_type(raw_message, '$.usage') = 'object')
),
last_line AS (
  SELECT session_id, max(sequence) AS sequence
  FROM messages
  WHERE type = 'assistant' AND api_message_id IS NOT NULL
    AND session_id IN (SELECT id FROM b_sessions)
    AND typeof(raw_message) = 'text' AND json_valid(raw_message)
    AND json_type(raw_message, '$.message.usage') = 'object'
  GROUP BY session_id, api_message_id
),
b AS (
  SELECT m.session_id, json_extract(m.raw_message, '$.message.model') AS model,
    sum(coalesce(json_extract(m.raw_message, '$.message.usage.input_tokens'), 0)) AS input_tokens,
    sum(coalesce(json_extract(m.raw_message, '$.message.usage.output_tokens'), 0)) AS output_tokens,
    sum(coalesce(json_extract(m.raw_message, '$.message.usage.cache_creation_input_tokens'), 0)) AS cache_creation_input_tokens,
    sum(coalesce(json_extract(m.raw_message, '$.message.usage.cache_creation.ephemeral_1h_input_tokens'), 0)) AS cache_creation_1h_tokens,
    sum(coalesce(json_extract(m.raw_message, '$.message.usage.cache_read_input_tokens'), 0)) AS cache_read_input_tokens,
    NULL AS cost_usd
  FROM last_line l JOIN messages m ON m.id = l.session_id || '-msg-' || l.sequence
  GROUP BY m.session_id, json_extract(m.raw_message, '$.message.model')
),
c AS (
  SELECT id AS session_id, model, input_tokens, output_tokens, cache_creation_input_tokens,
    0 AS cache_creation_1h_tokens, cache_read_input_tokens, total_cost_usd AS cost_usd
  FROM s WHERE id NOT IN (SELECT session_id FROM a) AND id NOT IN (SELECT id FROM b_sessions)
),
u AS (SELECT * FROM a UNION ALL SELECT * FROM b UNION ALL SELECT * FROM c)`

// UsageTable is the archive's copy of u, its rows for every session, kept
// by the archive update for the sessions it takes in: working u out reads
// the JSON of every assistant message, which a repeated `convlog stats`
// should not pay for again. The statistics use it where the database has it.
const UsageTable = "archive_usage"

// usageTableDDL: the columns have no declared type, so that they keep each
// value as u made it (INTEGER affinity would store a sum of 2.0 as 2): the
// figures read back are exactly those of UsageCTE.
const usageTableDDL = `CREATE TABLE IF NOT EXISTS ` + UsageTable + ` (
  session_id, model, input_tokens, output_tokens, cache_creation_input_tokens,
  cache_creation_1h_tokens, cache_read_input_tokens, cost_usd
);
CREATE INDEX IF NOT EXISTS ` + UsageTable + `_session ON ` + UsageTable + `(session_id)`

// StatsIndex covers the columns of toolsSQL, so that the tool figures are
// read without the tools' outputs.
const StatsIndex = "archive_tool_calls_stats"

const statsIndexDDL = `CREATE INDEX IF NOT EXISTS ` + StatsIndex + ` ON tool_calls(session_id, tool_name, status, duration_ms)`

// Execer is what making the stats extras needs: the connection that holds
// the archive's write transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Querier is what reading needs of a database.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// HasStatsExtras says whether db has what CreateStatsExtras makes.
func HasStatsExtras(ctx context.Context, db Querier) (bool, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
		WHERE (type = 'index' AND name = '`+StatsIndex+`') OR (type = 'table' AND name = '`+UsageTable+`')`).Scan(&n)
	return n == 2, err
}

// CreateStatsExtras makes what speeds up the statistics of a database that
// is read more often than written (the archive): the index StatsIndex, and
// the usage table, filled for every session. Run it in one transaction, so
// that a reader sees either no table or a whole one.
func CreateStatsExtras(ctx context.Context, db Execer) error {
	for _, ddl := range []string{statsIndexDDL, usageTableDDL} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return fillUsage(ctx, db, nil)
}

// RefreshUsage remakes the usage rows of the sessions ids from what the
// database holds of them now.
func RefreshUsage(ctx context.Context, db Execer, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return fillUsage(ctx, db, ids)
}

// fillUsage replaces the usage rows of the sessions ids, or of all of them
// when ids is nil.
func fillUsage(ctx context.Context, db Execer, ids []string) error {
	del, cond := "DELETE FROM "+UsageTable, "1"
	var args []any
	if ids != nil {
		list, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		del += " WHERE session_id IN (SELECT value FROM json_each(?))"
		cond, args = "id IN (SELECT value FROM json_each(?))", []any{string(list)}
	}
	if _, err := db.ExecContext(ctx, del, args...); err != nil {
		return fmt.Errorf("refresh %s: %w", UsageTable, err)
	}
	ins := "INSERT INTO " + UsageTable + "\nWITH s AS (SELECT * FROM sessions WHERE " + cond + ")" + UsageCTE + "\nSELECT * FROM u"
	if _, err := db.ExecContext(ctx, ins, args...); err != nil {
		return fmt.Errorf("refresh %s: %w", UsageTable, err)
	}
	return nil
}
