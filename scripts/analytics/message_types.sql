-- Message type distribution.
SELECT
  type,
  COUNT(*) as message_count,
  ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER(), 2) as percentage
FROM messages
GROUP BY type
ORDER BY message_count DESC;
