-- Sessions with most messages.
SELECT
  s.id,
  s.model,
  s.total_messages,
  s.duration_ms/1000 as duration_sec,
  datetime(s.started_at/1000, 'unixepoch') as started
FROM sessions s
WHERE s.total_messages IS NOT NULL
ORDER BY s.total_messages DESC
LIMIT 10;
