package record

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestPageCacheAfterSchema: the page cache buffer is used by a process that
// has already opened SQLite (to parse the schema, as every command does).
// It runs in a process of its own: the buffer is the process's, set once.
func TestPageCacheAfterSchema(t *testing.T) {
	if os.Getenv("CONVLOG_PAGECACHE_CHILD") != "" {
		pageCacheChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPageCacheAfterSchema$", "-test.v")
	cmd.Env = append(os.Environ(), "CONVLOG_PAGECACHE_CHILD=1", "CONVLOG_PAGECACHE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "slots used:") {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(string(out), "slots used: 0\n") {
		t.Errorf("the buffer was not used:\n%s", out)
	}
}

func pageCacheChild(t *testing.T) {
	if _, err := ParseSchema("CREATE TABLE t (a)"); err != nil {
		t.Fatal(err)
	}
	SetupPageCache(64)
	db, err := sql.Open("sqlite", filepath.Join(os.Getenv("CONVLOG_PAGECACHE_DIR"), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (a); INSERT INTO t VALUES (randomblob(100000))"); err != nil {
		t.Fatal(err)
	}
	tls := libc.NewTLS()
	defer tls.Close()
	sqlite3.Xsqlite3_status(tls, sqlite3.SQLITE_STATUS_PAGECACHE_USED, uintptr(unsafe.Pointer(&slotsNow)), uintptr(unsafe.Pointer(&slotsMost)), 0)
	// The highwater mark: slots taken at the busiest moment.
	t.Logf("slots used: %d\n", slotsMost)
}

// Where SQLite writes its figures: globals, which stay put.
var slotsNow, slotsMost int32
