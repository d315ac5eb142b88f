-- Tool error rates, for tools called at least 10 times.
SELECT
  tool_name,
  COUNT(*) as total_calls,
  COUNT(CASE WHEN status = 'error' THEN 1 END) as errors,
  COUNT(CASE WHEN status = 'success' THEN 1 END) as successes,
  ROUND(COUNT(CASE WHEN status = 'error' THEN 1 END) * 100.0 / COUNT(*), 2) as error_rate_pct
FROM tool_calls
GROUP BY tool_name
HAVING total_calls >= 10
ORDER BY error_rate_pct DESC;
