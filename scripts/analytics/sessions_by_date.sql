-- Sessions by date: how many sessions started each day (UTC), and their
-- average duration in seconds.
SELECT
  date(started_at/1000, 'unixepoch') as day,
  COUNT(*) as session_count,
  AVG(duration_ms)/1000 as avg_duration_seconds
FROM sessions
GROUP BY day
ORDER BY day DESC;
