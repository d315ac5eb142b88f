-- Incomplete sessions: still running, or the logger was killed (no end).
SELECT * FROM sessions WHERE ended_at IS NULL;
