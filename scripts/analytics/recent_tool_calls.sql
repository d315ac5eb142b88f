-- Most recent tool calls.
SELECT
  tool_name,
  status,
  datetime(timestamp/1000, 'unixepoch') as called_at,
  session_id
FROM tool_calls
ORDER BY timestamp DESC
LIMIT 20;
