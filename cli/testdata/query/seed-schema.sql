-- A session file as the seed's query-session and sync-session scripts knew
-- it: the seed's three tables and columns, nothing convlog added since.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY, started_at INTEGER, ended_at INTEGER, duration_ms INTEGER, model TEXT, mode TEXT,
  prompt_length INTEGER, cwd TEXT, github_run_id TEXT, github_repository TEXT, github_ref TEXT,
  result_type TEXT, result_subtype TEXT, total_messages INTEGER, total_tool_calls INTEGER
);
CREATE INDEX idx_sessions_started ON sessions(started_at);
CREATE TABLE messages (
  id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), sequence INTEGER NOT NULL,
  timestamp INTEGER, type TEXT, subtype TEXT, raw_message TEXT
);
CREATE TABLE tool_calls (
  id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), message_id TEXT REFERENCES messages(id),
  sequence INTEGER, timestamp INTEGER, tool_name TEXT, tool_input TEXT, tool_output TEXT, status TEXT,
  duration_ms INTEGER, error TEXT
);
INSERT INTO sessions VALUES ('5e5e5e5e-0000-4000-8000-000000000001', 1766300000000, 1766300012000, 12000,
  'claude-opus-4', 'auto', 18, '/home/user/old', NULL, NULL, NULL, 'result', 'success', 3, 1);
INSERT INTO messages VALUES ('5e5e5e5e-0000-4000-8000-000000000001-msg-0', '5e5e5e5e-0000-4000-8000-000000000001', 0,
  1766300000100, 'assistant', NULL,
  '{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_old","name":"Glob","input":{"pattern":"**/*.go"}}]}}');
INSERT INTO messages VALUES ('5e5e5e5e-0000-4000-8000-000000000001-msg-1', '5e5e5e5e-0000-4000-8000-000000000001', 1,
  1766300002000, 'user', NULL,
  '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_old","content":"main.go"}]}}');
INSERT INTO messages VALUES ('5e5e5e5e-0000-4000-8000-000000000001-msg-2', '5e5e5e5e-0000-4000-8000-000000000001', 2,
  1766300012000, 'result', 'success', '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"One Go file."}');
INSERT INTO tool_calls VALUES ('toolu_old', '5e5e5e5e-0000-4000-8000-000000000001',
  '5e5e5e5e-0000-4000-8000-000000000001-msg-0', 0, 1766300000100, 'Glob', '{"pattern":"**/*.go"}', 'main.go', 'success', 1900, NULL);
