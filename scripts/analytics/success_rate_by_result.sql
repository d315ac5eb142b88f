-- Success rate by result type: the last result line of each session, as a
-- share of the sessions that have one.
SELECT
  result_type,
  result_subtype,
  COUNT(*) as count,
  ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER(), 2) as percentage
FROM sessions
WHERE result_type IS NOT NULL
GROUP BY result_type, result_subtype
ORDER BY count DESC;
