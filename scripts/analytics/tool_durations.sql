-- Average tool execution time (ms), from tool_use to tool_result.
SELECT
  tool_name,
  COUNT(*) as call_count,
  AVG(duration_ms) as avg_duration_ms,
  MIN(duration_ms) as min_duration_ms,
  MAX(duration_ms) as max_duration_ms
FROM tool_calls
WHERE duration_ms IS NOT NULL
GROUP BY tool_name
ORDER BY avg_duration_ms DESC;
