package testkit

import (
	"context"
	"testing"
)

func TestServerKeepsDataAcrossCrash(t *testing.T) {
	s := Start(t)
	db := s.DB()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "BEGIN; CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept'); COMMIT"); err != nil {
		t.Fatal(err)
	}
	s.Crash()
	if s.Running() {
		t.Fatal("server still running after Crash")
	}
	// (The client's Ping does not reach the server: query instead.)
	if _, err := db.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Fatal("a query to a crashed server succeeded")
	}
	s.Restart()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT v FROM t").Scan(&v); err != nil || v != "kept" {
		t.Fatalf("after restart: %q, %v\n%s", v, err, s.Log())
	}
}

func TestMissingBinaryIsAnError(t *testing.T) {
	t.Setenv("CONVLOG_TURSO_BIN", "/nonexistent/tursodb")
	if _, err := binary(); err == nil {
		t.Fatal("Binary found a server that is not there")
	}
}
