-- Cost and tokens by day (UTC), from the sessions' own totals. Tokens: the
-- result lines' figures where there are any, else each API message once.
-- reported_cost_usd is what the agent reported; sessions that reported
-- none (Claude Code transcripts carry tokens but no cost) are counted in
-- sessions_without_cost, and convlog stats estimates theirs apart.
SELECT
  date(started_at/1000, 'unixepoch') as day,
  COUNT(*) as sessions,
  ROUND(SUM(total_cost_usd), 6) as reported_cost_usd,
  COUNT(*) - COUNT(total_cost_usd) as sessions_without_cost,
  SUM(input_tokens) as input_tokens,
  SUM(output_tokens) as output_tokens,
  SUM(cache_creation_input_tokens) as cache_creation_input_tokens,
  SUM(cache_read_input_tokens) as cache_read_input_tokens
FROM sessions
GROUP BY day
ORDER BY day DESC;
