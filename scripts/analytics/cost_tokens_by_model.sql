-- Cost and tokens by the model that used them, from table session_usage
-- (schema.sql says which of a session's lines count: modelUsage, else the
-- result lines' totals, else each API message once), as convlog stats
-- counts them. A session counts under every model it used; one without
-- usage rows (no tokens, or synced before the table) under its own model
-- with its totals; a reported total that no usage row carries goes under
-- the session's model. Estimates are convlog stats's, which also counts an
-- agent session logged twice (tee and import) once.
WITH
u AS (
  SELECT session_id, NULLIF(model, '') as model, input_tokens, output_tokens, cache_creation_input_tokens,
    cache_creation_1h_tokens, cache_read_input_tokens, cost_usd
  FROM session_usage
  UNION ALL
  SELECT id, model, COALESCE(input_tokens, 0), COALESCE(output_tokens, 0), COALESCE(cache_creation_input_tokens, 0),
    0, COALESCE(cache_read_input_tokens, 0), total_cost_usd
  FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM session_usage x WHERE x.session_id = s.id)
  UNION ALL
  SELECT id, model, 0, 0, 0, 0, 0, total_cost_usd
  FROM sessions s WHERE total_cost_usd IS NOT NULL
    AND EXISTS (SELECT 1 FROM session_usage x WHERE x.session_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM session_usage x WHERE x.session_id = s.id AND x.cost_usd IS NOT NULL)
)
SELECT
  u.model,
  COUNT(DISTINCT u.session_id) as sessions,
  ROUND(SUM(u.cost_usd), 6) as reported_cost_usd,
  COUNT(DISTINCT CASE WHEN s.total_cost_usd IS NULL THEN u.session_id END) as sessions_without_cost,
  SUM(u.input_tokens) as input_tokens,
  SUM(u.output_tokens) as output_tokens,
  SUM(u.cache_creation_input_tokens) as cache_creation_input_tokens,
  SUM(u.cache_creation_1h_tokens) as cache_creation_1h_tokens,
  SUM(u.cache_read_input_tokens) as cache_read_input_tokens
FROM u JOIN sessions s ON s.id = u.session_id
GROUP BY u.model
ORDER BY sessions DESC, u.model;
