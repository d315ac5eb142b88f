package testkit

import (
	"bytes"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/convlog/convlog/record"
)

// OpenDB opens a session file read-only for the test.
func OpenDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := record.OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// StoredLines returns raw_message of every message in sequence order,
// checking that sequences run 0…n-1 and ids are {session}-msg-{seq}.
func StoredLines(t testing.TB, db *sql.DB) [][]byte {
	t.Helper()
	rows, err := db.Query(`SELECT id, session_id, sequence, raw_message FROM messages ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines [][]byte
	for rows.Next() {
		var id, sid string
		var seq int
		var raw []byte
		if err := rows.Scan(&id, &sid, &seq, &raw); err != nil {
			t.Fatal(err)
		}
		if seq != len(lines) || id != fmt.Sprintf("%s-msg-%d", sid, seq) {
			t.Fatalf("message %q has sequence %d, want %d", id, seq, len(lines))
		}
		lines = append(lines, raw)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// StoredBySequence returns raw_message by sequence, for sessions where lines
// may be missing (lost to a failed write).
func StoredBySequence(t testing.TB, db *sql.DB) map[int][]byte {
	t.Helper()
	rows, err := db.Query(`SELECT sequence, raw_message FROM messages`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[int][]byte{}
	for rows.Next() {
		var seq int
		var raw []byte
		if err := rows.Scan(&seq, &raw); err != nil {
			t.Fatal(err)
		}
		m[seq] = raw
	}
	return m
}

// SplitLines is how convlog frames input: '\n' ends a line, a last line
// without one still counts.
func SplitLines(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte("\n"))
	if len(parts[len(parts)-1]) == 0 {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// QueryRow scans the one row of q into dst.
func QueryRow(t testing.TB, db *sql.DB, q string, dst ...any) {
	t.Helper()
	if err := db.QueryRow(q).Scan(dst...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// WaitForMessages polls the session file until it holds n messages; the
// logger commits within ~100 ms, so this is a deadline, not a delay.
func WaitForMessages(t testing.TB, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if db, err := record.OpenReadOnly(t.Context(), path); err == nil {
			var got int
			err := db.QueryRow(`SELECT count(*) FROM messages`).Scan(&got)
			db.Close()
			if err == nil && got >= n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %d messages", path, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
