-- Cost and tokens by day (UTC) of the sessions' start, from table
-- session_usage as cost_tokens_by_model.sql reads it, so that the days add
-- up to the same total as the models. reported_cost_usd is what the agent
-- reported; sessions that reported none (Claude Code transcripts carry
-- tokens but no cost) are counted in sessions_without_cost, and convlog
-- stats estimates theirs apart.
WITH
u AS (
  SELECT session_id, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd
  FROM session_usage
  UNION ALL
  SELECT id, COALESCE(input_tokens, 0), COALESCE(output_tokens, 0), COALESCE(cache_creation_input_tokens, 0),
    COALESCE(cache_read_input_tokens, 0), total_cost_usd
  FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM session_usage x WHERE x.session_id = s.id)
  UNION ALL
  SELECT id, 0, 0, 0, 0, total_cost_usd
  FROM sessions s WHERE total_cost_usd IS NOT NULL
    AND EXISTS (SELECT 1 FROM session_usage x WHERE x.session_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM session_usage x WHERE x.session_id = s.id AND x.cost_usd IS NOT NULL)
)
SELECT
  date(s.started_at/1000, 'unixepoch') as day,
  COUNT(DISTINCT s.id) as sessions,
  ROUND(SUM(u.cost_usd), 6) as reported_cost_usd,
  COUNT(DISTINCT CASE WHEN s.total_cost_usd IS NULL THEN s.id END) as sessions_without_cost,
  SUM(u.input_tokens) as input_tokens,
  SUM(u.output_tokens) as output_tokens,
  SUM(u.cache_creation_input_tokens) as cache_creation_input_tokens,
  SUM(u.cache_read_input_tokens) as cache_read_input_tokens
FROM sessions s JOIN u ON u.session_id = s.id
GROUP BY day
ORDER BY day DESC;
