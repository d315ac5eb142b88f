package record

import (
	"os"
	"path/filepath"
	"testing"
)

// A sub-agent's transcript is told by its first line, a sidechain: its
// agentId names the sub-agent, or, in files whose lines carry none, the
// file's name (agent-<id>.jsonl). Other files are not sub-agents'.
func TestPeekSubagent(t *testing.T) {
	dir := t.TempDir()
	const session = "5b1e2c3d-7a8f-4e9b-a0c1-d2e3f4a5b6c7"
	for _, c := range []struct {
		name, first      string
		session, agentID string
	}{
		{"agent-a7c2e41.jsonl", `{"parentUuid":null,"isSidechain":true,"sessionId":"` + session + `","agentId":"a7c2e41","type":"user","message":{"role":"user","content":"go"}}`, session, "a7c2e41"},
		{"agent-b91f03d.jsonl", `{"parentUuid":null,"isSidechain":true,"sessionId":"` + session + `","type":"user","message":{"role":"user","content":"go"}}`, session, "b91f03d"},
		{"agent-c0ffee1.jsonl", `{"parentUuid":null,"isSidechain":false,"sessionId":"` + session + `","type":"user","message":{"role":"user","content":"go"}}`, session, ""},
		{"notes.jsonl", `{"parentUuid":null,"isSidechain":true,"sessionId":"` + session + `","type":"user","message":{"role":"user","content":"go"}}`, session, ""},
		{"agent-d00d001.jsonl", `{"type":"system","subtype":"init","session_id":"` + session + `"}`, session, ""},
		{"agent-e11e001.jsonl", "not json\n" + `{"parentUuid":null,"isSidechain":true,"sessionId":"` + session + `","agentId":"e11e001","type":"user"}`, session, "e11e001"},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.first+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, a := PeekSubagent(t.Context(), path)
		if a != c.agentID || (a != "" && s != c.session) {
			t.Errorf("%s: session %q, agent %q; want %q, %q", c.name, s, a, c.session, c.agentID)
		}
	}
	if s, a := PeekSubagent(t.Context(), filepath.Join(dir, "missing.jsonl")); s != "" || a != "" {
		t.Errorf("a missing file: %q %q", s, a)
	}
}
