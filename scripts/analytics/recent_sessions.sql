-- Recent session summary: the 20 newest sessions.
SELECT
  id,
  model,
  mode,
  duration_ms/1000 as duration_sec,
  total_messages as msgs,
  total_tool_calls as tools,
  result_type,
  datetime(started_at/1000, 'unixepoch') as started
FROM sessions
ORDER BY started_at DESC
LIMIT 20;
