-- Comprehensive session report: the 20 newest sessions with their tools.
SELECT
  s.id,
  s.model,
  s.mode,
  s.duration_ms/1000 as duration_sec,
  s.total_messages,
  s.total_tool_calls,
  COUNT(DISTINCT t.tool_name) as unique_tools,
  ROUND(AVG(t.duration_ms), 0) as avg_tool_duration_ms,
  s.result_type,
  datetime(s.started_at/1000, 'unixepoch') as started
FROM sessions s
LEFT JOIN tool_calls t ON s.id = t.session_id
GROUP BY s.id
ORDER BY s.started_at DESC
LIMIT 20;
