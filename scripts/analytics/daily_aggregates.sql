-- Daily aggregates: sessions, messages and tool calls per day (UTC).
SELECT
  date(s.started_at/1000, 'unixepoch') as day,
  COUNT(DISTINCT s.id) as sessions,
  SUM(s.total_messages) as total_messages,
  SUM(s.total_tool_calls) as total_tool_calls,
  AVG(s.duration_ms)/1000 as avg_duration_sec
FROM sessions s
GROUP BY day
ORDER BY day DESC;
