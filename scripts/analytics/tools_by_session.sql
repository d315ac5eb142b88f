-- Tools by session: how many tool calls each session made, and which tools.
SELECT
  s.id as session_id,
  s.model,
  COUNT(t.id) as tool_count,
  GROUP_CONCAT(DISTINCT t.tool_name) as tools_used
FROM sessions s
LEFT JOIN tool_calls t ON s.id = t.session_id
GROUP BY s.id, s.model
ORDER BY tool_count DESC
LIMIT 20;
