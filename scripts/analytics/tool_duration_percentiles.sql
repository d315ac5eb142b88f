-- Tool execution time percentiles (ms): p50 and p95 by nearest rank, the
-- smallest duration whose rank is at least p × n, as convlog stats shows
-- them. Window functions only, so it runs on any SQLite or libSQL.
WITH d AS (
  SELECT
    tool_name,
    duration_ms,
    ROW_NUMBER() OVER (PARTITION BY tool_name ORDER BY duration_ms) as rn,
    COUNT(*) OVER (PARTITION BY tool_name) as n
  FROM tool_calls
  WHERE duration_ms IS NOT NULL
)
SELECT
  tool_name,
  MAX(n) as timed_calls,
  MIN(CASE WHEN rn >= n * 0.50 THEN duration_ms END) as p50_duration_ms,
  MIN(CASE WHEN rn >= n * 0.95 THEN duration_ms END) as p95_duration_ms,
  MAX(duration_ms) as max_duration_ms
FROM d
GROUP BY tool_name
ORDER BY p95_duration_ms DESC, tool_name;
