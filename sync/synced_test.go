package sync

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

func TestSynced(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	schema := testkit.Schema(t)
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
	s := testkit.NewSession(t, filepath.Join(dir, "s"), "live")
	s.Line(testkit.InitLine).Line(testkit.ToolUse("toolu_1", "make")).Commit()
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
	s.Line(testkit.ToolResult("toolu_1", "ok", false)).Commit() // completes a pending tool call, changes the session row
	if synced(s.Path, archive) {
		t.Error("grown since its sync, yet Synced")
	}
	push(s.Path)
	if !synced(s.Path, archive) {
		t.Error("synced again, yet not Synced")
	}
	s.Line(testkit.ResultLine)
	path := s.Finish()
	if synced(path, archive) {
		t.Error("finished after its sync, yet Synced")
	}
	push(path)
	if !synced(path, archive) {
		t.Error("finished and synced, yet not Synced")
	}
}
