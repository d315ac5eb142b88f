-- convlog session schema.
--
-- The seed's three tables with every column, index and foreign key it lists, so that
-- every query in the seed runs unchanged, plus columns the seed wants but lacks (the
-- agent's own session id, sub-agent links, cost and tokens, lines that could not be
-- logged). Changes are additive only: convlog brings older files and sync targets up
-- to date by adding the columns they miss, so never rename or drop a column here.
-- The version lives in PRAGMA user_version (record.SchemaVersion).

CREATE TABLE IF NOT EXISTS sessions (
  id                TEXT PRIMARY KEY,
  started_at        INTEGER,
  ended_at          INTEGER,
  duration_ms       INTEGER,
  model             TEXT,
  mode              TEXT,
  prompt_length     INTEGER,
  cwd               TEXT,
  github_run_id     TEXT,
  github_repository TEXT,
  github_ref        TEXT,
  result_type       TEXT,
  result_subtype    TEXT,
  total_messages    INTEGER DEFAULT 0,
  total_tool_calls  INTEGER DEFAULT 0,
  -- additions
  agent_session_id  TEXT,    -- the agent's own session id (init session_id, transcript sessionId)
  agent_version     TEXT,    -- claude_code_version / transcript version
  git_branch        TEXT,
  source            TEXT,    -- 'tee' or 'import'
  source_format     TEXT,    -- 'stream-json' or 'transcript'; another agent's stream: 'gemini-stream-json', 'codex-json', …
  source_path       TEXT,    -- the imported file
  source_size       INTEGER, -- its size and modification time (Unix ms) when
  source_mtime      INTEGER, -- imported: an unchanged file is not read again
  is_error          INTEGER, -- the last result line's is_error
  num_turns         INTEGER, -- summed over result lines
  total_cost_usd    REAL,    -- as reported by the agent (result lines); NULL when none
  input_tokens      INTEGER,
  output_tokens     INTEGER,
  cache_creation_input_tokens INTEGER,
  cache_read_input_tokens     INTEGER,
  lines_dropped     INTEGER DEFAULT 0, -- input lines that could not be logged
  redactions        INTEGER DEFAULT 0, -- secrets replaced by [REDACTED:<kind>] in the stored copy
  agent             TEXT     -- whose stream: 'claude-code', 'gemini-cli', 'codex', 'cursor', 'opencode'; NULL when not known
);

CREATE INDEX IF NOT EXISTS idx_sessions_started ON sessions(started_at);

CREATE TABLE IF NOT EXISTS messages (
  id          TEXT PRIMARY KEY,   -- {sessionId}-msg-{sequence}
  session_id  TEXT NOT NULL REFERENCES sessions(id),
  sequence    INTEGER NOT NULL,   -- 0, 1, 2, … in arrival order
  timestamp   INTEGER,            -- Unix ms the line was read (or its own timestamp on import)
  type        TEXT,               -- the line's type; 'error' for a line that is not a JSON object
  subtype     TEXT,               -- the line's subtype; 'invalid_json' for such a line
  raw_message TEXT,               -- the line exactly, without its newline (a BLOB if not UTF-8)
  -- additions
  parent_tool_use_id TEXT,        -- set on sub-agent messages: the Task/Agent tool_use that started them
  api_message_id     TEXT,        -- message.id of assistant lines; several lines can share one
  is_sidechain       INTEGER      -- transcripts: isSidechain
);

CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id);
CREATE INDEX IF NOT EXISTS idx_messages_type ON messages(type);

CREATE TABLE IF NOT EXISTS tool_calls (
  id          TEXT PRIMARY KEY,   -- the tool_use id (other agents: '<agent session id>:<their id>')
  session_id  TEXT NOT NULL REFERENCES sessions(id),
  message_id  TEXT REFERENCES messages(id),
  sequence    INTEGER,            -- 0, 1, 2, … in order of the tool_use blocks
  timestamp   INTEGER,            -- Unix ms of the tool_use
  tool_name   TEXT,
  tool_input  TEXT,               -- JSON
  tool_output TEXT,
  status      TEXT,               -- 'pending', 'success', 'error'
  duration_ms INTEGER,            -- result time - use time; NULL when either is unknown
  error       TEXT,               -- the result content when is_error
  -- additions
  parent_tool_use_id TEXT,        -- set on sub-agent tool calls
  result_message_id  TEXT REFERENCES messages(id),
  completed_at       INTEGER,     -- Unix ms of the tool_result
  tool_use_id        TEXT         -- the tool_use id. In a session file it is id too; in the archive and a
                                  -- synced database id is {session}-tool-{tool_use_id}, as one agent session
                                  -- logged twice (tee, and import of its transcript) has its tool calls twice
);

CREATE INDEX IF NOT EXISTS idx_tool_calls_session ON tool_calls(session_id);
CREATE INDEX IF NOT EXISTS idx_tool_calls_name ON tool_calls(tool_name);
CREATE INDEX IF NOT EXISTS idx_tool_calls_status ON tool_calls(status);
CREATE INDEX IF NOT EXISTS idx_tool_calls_tool_use ON tool_calls(tool_use_id);

-- Tokens and cost of each session by model and pricing tier, worked out once
-- from its lines (by convlog tee and import as they write; by sync and the
-- archive for files written before this table), so that statistics over
-- many sessions never read the messages' JSON. Which lines count:
--   'result':   the result lines' modelUsage (the last of each agent process,
--               summed over agent processes), with its reported cost;
--   'totals':   else the result lines' usage, under the session's model,
--               with the session's reported cost;
--   'messages': else each API message once (message.id, its last line), by
--               its own model, in the tier of its own input.
-- Sessions that used no tokens have no rows.
CREATE TABLE IF NOT EXISTS session_usage (
  session_id  TEXT NOT NULL REFERENCES sessions(id),
  model       TEXT NOT NULL,      -- '' when not known
  tier        TEXT NOT NULL,      -- 'standard'; 'long': requests of more than 200k input tokens
                                  -- (input + cache writes + cache reads), billed at long-context rates
  source      TEXT,               -- 'result', 'totals' or 'messages', as above
  requests    INTEGER,            -- API messages counted ('messages'); 0 for sums the agent gave
  input_tokens                INTEGER,
  output_tokens               INTEGER,
  cache_creation_input_tokens INTEGER,
  cache_creation_1h_tokens    INTEGER, -- the part of the cache writes that went to the one-hour cache
  cache_read_input_tokens     INTEGER,
  cost_usd    REAL,               -- reported for this model; NULL when the agent reported none
  PRIMARY KEY (session_id, model, tier)
);
