-- Average messages per session.
SELECT
  AVG(total_messages) as avg_messages_per_session,
  MIN(total_messages) as min_messages,
  MAX(total_messages) as max_messages
FROM sessions
WHERE total_messages IS NOT NULL;
