-- Tool usage frequency: calls per tool and their share of all calls.
SELECT
  tool_name,
  COUNT(*) as call_count,
  ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER(), 2) as percentage
FROM tool_calls
GROUP BY tool_name
ORDER BY call_count DESC;
