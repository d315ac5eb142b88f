package sync

import (
	"context"
	"path/filepath"
	"testing"
)

func TestSynced(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	schema := testSchema(t)
	archive := Target{URL: "file:" + filepath.Join(dir, "archive.db")}
	other := Target{URL: "file:" + filepath.Join(dir, "other.db")}
	synced := func(path string, tg Target) bool {
		t.Helper()
		ok, err := Synced(ctx, path, tg, schema)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	push := func(path string) {
		t.Helper()
		if _, err := Sync(ctx, archive, []string{path}, Options{Schema: schema}); err != nil {
			t.Fatal(err)
		}
	}

	// A running session: synced while nothing new arrives, not once it grows.
	s := newSession(t, filepath.Join(dir, "s"), "live")
	s.line(initLine).line(toolUse("toolu_1", "make")).commit()
	if synced(s.Path, archive) {
		t.Error("never synced, yet Synced")
	}
	push(s.Path)
	if !synced(s.Path, archive) {
		t.Error("just synced, yet not Synced")
	}
	if synced(s.Path, other) {
		t.Error("synced to another target only, yet Synced to this one")
	}
	s.line(toolResult("toolu_1", "ok", false)).commit() // completes a pending tool call, changes the session row
	if synced(s.Path, archive) {
		t.Error("grown since its sync, yet Synced")
	}
	push(s.Path)
	if !synced(s.Path, archive) {
		t.Error("synced again, yet not Synced")
	}
	s.line(resultLine)
	path := s.finish()
	if synced(path, archive) {
		t.Error("finished after its sync, yet Synced")
	}
	push(path)
	if !synced(path, archive) {
		t.Error("finished and synced, yet not Synced")
	}
}
