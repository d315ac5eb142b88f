-- Longest running sessions.
SELECT
  id,
  model,
  duration_ms/1000 as duration_seconds,
  total_messages,
  total_tool_calls,
  datetime(started_at/1000, 'unixepoch') as started
FROM sessions
ORDER BY duration_ms DESC
LIMIT 10;
