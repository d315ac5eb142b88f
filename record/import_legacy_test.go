package record

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// A file that an older convlog imported under an id made from its content
// (it found no session id in a Codex session file, or in a transcript of
// file-history-snapshot lines only) is imported again into that session,
// read as its agent's this time, rather than into a new session beside it:
// the archive, which keeps every session it took in, would count both.
func TestImportReplacesAnOlderImport(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	for name, path := range map[string]string{
		"rollout":   "../cli/testdata/import/codex-rollout.jsonl",
		"snapshots": "", // written below
	} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "0b6f3c1e-7a1d-4c55-9a0e-2f9d3e8b1c11.jsonl")
			data := []byte(`{"type":"file-history-snapshot","messageId":"m1","snapshot":{"messageId":"m1","trackedFileBackups":{},"timestamp":"2026-11-02T10:15:00.123Z"},"isSnapshotUpdate":false}` + "\n")
			if path != "" {
				var err error
				if data, err = os.ReadFile(path); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(src, data, 0o600); err != nil {
				t.Fatal(err)
			}
			// What an older convlog left: the session under the old id,
			// of no agent.
			var id identity
			peek(src, func(m *mapped) { id, _ = identify(ctx, src, m) })
			if len(id.legacy) == 0 {
				t.Fatal("no older id")
			}
			dir := t.TempDir()
			first, err := Import(ctx, src, dir, schema, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			older := filepath.Join(dir, id.legacy[0]+".db")
			if err := os.Rename(filepath.Join(dir, first.SessionID+".db"), older); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("sqlite", older)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE sessions SET id = ?, agent = NULL`, id.legacy[0]); err != nil {
				t.Fatal(err)
			}
			db.Close()

			res, err := Import(ctx, src, dir, schema, ImportOptions{})
			if err != nil || res.SessionID != id.legacy[0] || !res.Replaced || res.Skipped {
				t.Fatalf("imported again: %+v %v; want session %s replaced", res, err, id.legacy[0])
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "*.db")); len(m) != 1 {
				t.Fatalf("session files %v, want the older one only", m)
			}
			var agent sql.NullString
			ro, err := OpenReadOnly(ctx, older)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			if err := ro.QueryRow(`SELECT agent FROM sessions`).Scan(&agent); err != nil || agent.String != first.Agent || agent.String == "" {
				t.Fatalf("agent %v (%v), want %q", agent, err, first.Agent)
			}
			// And then it is up to date.
			if res, err := Import(ctx, src, dir, schema, ImportOptions{}); err != nil || !res.Skipped || res.SessionID != id.legacy[0] {
				t.Fatalf("once more: %+v %v", res, err)
			}
		})
	}
}
