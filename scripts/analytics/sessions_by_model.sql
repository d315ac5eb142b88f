-- Sessions by model: sessions, average duration, messages and tool calls.
SELECT
  model,
  COUNT(*) as total_sessions,
  AVG(duration_ms)/1000 as avg_duration_seconds,
  AVG(total_messages) as avg_messages,
  AVG(total_tool_calls) as avg_tool_calls
FROM sessions
GROUP BY model
ORDER BY total_sessions DESC;
