-- Cost and tokens by the model that used them, for sessions that use more
-- than one (Claude Code hands small jobs to a smaller model):
--   a: sessions whose result lines carry modelUsage. Like total_cost_usd it
--      is cumulative within one agent process, so the last result line of
--      each agent session counts, summed over agent sessions.
--   b: sessions with no result line that carries usage (transcripts, cut
--      streams): the assistant messages, each API message id once (its last
--      line, found by its sequence and fetched by its id), by the message's
--      own model. They report no cost.
--   c: the others: the session's totals under the session's model.
-- cache_creation_1h_tokens is the part of the cache writes that went to the
-- one-hour cache, where the messages say (b).
WITH
last_result AS (
  SELECT m.session_id, m.raw_message,
    ROW_NUMBER() OVER (PARTITION BY m.session_id, json_extract(m.raw_message, '$.session_id') ORDER BY m.sequence DESC) as rn
  FROM messages m
  WHERE m.type = 'result'
    AND typeof(m.raw_message) = 'text' AND json_valid(m.raw_message)
    AND json_type(m.raw_message, '$.modelUsage') = 'object'
),
a AS (
  SELECT r.session_id, j.key as model,
    SUM(json_extract(j.value, '$.inputTokens')) as input_tokens,
    SUM(json_extract(j.value, '$.outputTokens')) as output_tokens,
    SUM(json_extract(j.value, '$.cacheCreationInputTokens')) as cache_creation_input_tokens,
    0 as cache_creation_1h_tokens,
    SUM(json_extract(j.value, '$.cacheReadInputTokens')) as cache_read_input_tokens,
    SUM(json_extract(j.value, '$.costUSD')) as cost_usd
  FROM last_result r, json_each(r.raw_message, '$.modelUsage') j
  WHERE r.rn = 1
  GROUP BY r.session_id, j.key
),
b_sessions AS (
  SELECT id FROM sessions WHERE id NOT IN (
    SELECT session_id FROM messages WHERE type = 'result'
      AND typeof(raw_message) = 'text' AND json_valid(raw_message)
      AND json_type(raw_message, '$.usage') = 'object')
),
last_line AS (
  SELECT session_id, MAX(sequence) as sequence
  FROM messages
  WHERE type = 'assistant' AND api_message_id IS NOT NULL
    AND session_id IN (SELECT id FROM b_sessions)
    AND typeof(raw_message) = 'text' AND json_valid(raw_message)
    AND json_type(raw_message, '$.message.usage') = 'object'
  GROUP BY session_id, api_message_id
),
b AS (
  SELECT m.session_id, json_extract(m.raw_message, '$.message.model') as model,
    SUM(COALESCE(json_extract(m.raw_message, '$.message.usage.input_tokens'), 0)) as input_tokens,
    SUM(COALESCE(json_extract(m.raw_message, '$.message.usage.output_tokens'), 0)) as output_tokens,
    SUM(COALESCE(json_extract(m.raw_message, '$.message.usage.cache_creation_input_tokens'), 0)) as cache_creation_input_tokens,
    SUM(COALESCE(json_extract(m.raw_message, '$.message.usage.cache_creation.ephemeral_1h_input_tokens'), 0)) as cache_creation_1h_tokens,
    SUM(COALESCE(json_extract(m.raw_message, '$.message.usage.cache_read_input_tokens'), 0)) as cache_read_input_tokens,
    NULL as cost_usd
  FROM last_line l JOIN messages m ON m.id = l.session_id || '-msg-' || l.sequence
  GROUP BY m.session_id, json_extract(m.raw_message, '$.message.model')
),
c AS (
  SELECT id as session_id, model, input_tokens, output_tokens, cache_creation_input_tokens,
    0 as cache_creation_1h_tokens, cache_read_input_tokens, total_cost_usd as cost_usd
  FROM sessions
  WHERE id NOT IN (SELECT session_id FROM a) AND id NOT IN (SELECT id FROM b_sessions)
),
u AS (SELECT * FROM a UNION ALL SELECT * FROM b UNION ALL SELECT * FROM c)
SELECT
  u.model,
  COUNT(DISTINCT u.session_id) as sessions,
  ROUND(SUM(u.cost_usd), 6) as reported_cost_usd,
  COUNT(DISTINCT CASE WHEN s.total_cost_usd IS NULL THEN u.session_id END) as sessions_without_cost,
  SUM(COALESCE(u.input_tokens, 0)) as input_tokens,
  SUM(COALESCE(u.output_tokens, 0)) as output_tokens,
  SUM(COALESCE(u.cache_creation_input_tokens, 0)) as cache_creation_input_tokens,
  SUM(u.cache_creation_1h_tokens) as cache_creation_1h_tokens,
  SUM(COALESCE(u.cache_read_input_tokens, 0)) as cache_read_input_tokens
FROM u JOIN sessions s ON s.id = u.session_id
WHERE COALESCE(u.input_tokens, 0) + COALESCE(u.output_tokens, 0) + COALESCE(u.cache_creation_input_tokens, 0)
    + COALESCE(u.cache_read_input_tokens, 0) > 0 OR u.cost_usd > 0
GROUP BY u.model
ORDER BY sessions DESC, u.model;
