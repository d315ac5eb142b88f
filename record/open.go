package record

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// BusyTimeout is how long a statement waits for a lock held by another
// process before it fails.
const BusyTimeout = 2 * time.Second

// DSN is the modernc sqlite data source for a file. The pragmas are in the
// DSN so that every pooled connection gets them.
func DSN(path string, readOnly bool) string {
	return dsn(path, readOnly, false, false)
}

// dsn with bulk set is for a file that is thrown away if anything fails in
// writing it (imports into a temporary file): no WAL, no syncs, no
// rollback journal.
func dsn(path string, readOnly, bulk, fresh bool) string {
	var b strings.Builder
	b.WriteString("file:")
	b.WriteString(EscapePath(path))
	b.WriteString("?_pragma=busy_timeout(")
	b.WriteString(strconv.FormatInt(BusyTimeout.Milliseconds(), 10))
	b.WriteString(")&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)")
	switch {
	case readOnly:
		b.WriteString("&mode=ro")
	case bulk:
		b.WriteString("&_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
		b.WriteString(bulkCache)
	case fresh:
		// The page size can only be chosen before the file switches to WAL:
		// Writer.init sets both. The file is still under its temporary name,
		// thrown away if anything fails, so it needs no syncs.
		b.WriteString("&_pragma=synchronous(OFF)")
		b.WriteString(writerCache)
	default:
		b.WriteString("&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	}
	return b.String()
}

// Page cache sizes, in KiB, for the DSN. A writer whose transaction
// outgrows its cache spills pages to the file mid-transaction and reads them
// back, which took a tenth of a 1 GB tee's time at SQLite's default of 2 MB.
// An import's file has no journal, so what it spills is simply written: its
// cache holds the pages it is filling, not the whole file (with 64 MB, one
// for each file imported at once, an import of 500 MB of transcripts peaked
// at 190 MB); it commits every BulkCommitBytes (see Import).
const (
	writerCache = "&_pragma=cache_size(-8192)"
	bulkCache   = "&_pragma=cache_size(-4096)"
)

// BulkCommitBytes is how many bytes of lines an import writes between
// commits, which bring the session row up to date.
const BulkCommitBytes = 8 << 20

// LargePages, added to a DSN, gives a new file 64 KiB pages, for archives,
// which take in every session's lines: with SQLite's default 4 KiB the first
// update of 500 MB of sessions wrote and read back 4 KiB at a time, over
// 240,000 calls. The driver runs a DSN's pragmas in alphabetical order, so
// a journal_mode(WAL) beside it would run first and fix the page size: a
// DSN with LargePages leaves journal_mode out, and its opener switches WAL
// on with an explicit PRAGMA (a no-op for a file that is in WAL mode).
const LargePages = "&_pragma=page_size(65536)"

// BulkCachePages is how many pages an import's writer keeps at most, for
// SetupPageCache: bulkCache in large pages, or smallBulkCache pages.
const BulkCachePages = max(4096<<10/writePageSize, smallBulkCache)

// smallBulkCache is the page cache, in pages, of an import written with
// small pages: a page cache buffer slot holds a page of any size, and 12 MB
// of small pages took every slot there was, so that the large pages of
// the file imported beside it were each allocated and mapped on their own
// (a fifth of an import's system time went to unmapping them).
const smallBulkCache = 256

// EscapePath keeps a path from being read as URI syntax in a "file:" DSN.
func EscapePath(p string) string {
	if !strings.ContainsAny(p, "?#%") {
		return p
	}
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '?', '#', '%':
			b.WriteString(url.PathEscape(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// OpenReadOnly opens a session file (or any file on the schema) for reading.
func OpenReadOnly(ctx context.Context, path string) (*sql.DB, error) {
	RollBack(ctx, path)
	return openRead(ctx, DSN(path, true))
}

// RollBack undoes the transaction that a writer killed in the middle of it
// left in a rollback journal beside the file (a session file is written
// through one while its page size changes, at its switch to large pages
// and when it is compacted at the end). SQLite plays such a journal back
// when the file is next opened, but only by a connection that may write:
// one opened read-only fails with "attempt to write a readonly database",
// as if the file were broken, although sqlite3 would open it whole. So the
// journal is played back here, by opening the file for writing as sqlite3
// does; when that is not allowed the file stays as it is. A journal that a
// live writer is using is not played back: SQLite knows it by its lock.
//
// Without a journal this costs one stat.
func RollBack(ctx context.Context, path string) {
	if st, err := os.Stat(path + "-journal"); err != nil || st.Size() == 0 {
		return
	}
	// mode=rw: a file removed meanwhile is not created again. No
	// journal_mode pragma: the file keeps the mode its writer gave it.
	db, err := sql.Open("sqlite", "file:"+EscapePath(path)+"?mode=rw&_pragma=busy_timeout("+
		strconv.FormatInt(BusyTimeout.Milliseconds(), 10)+")")
	if err != nil {
		return
	}
	defer db.Close()
	var n int64
	db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
}

// OpenMapped opens a session file for reading it whole, through a memory
// map of up to 256 MiB: a file with 4 KiB pages is otherwise read with one
// read call per page, a fifth of the time it took to gather 100 MB of
// sessions into an archive. SQLite maps only what the file holds at the
// start of each read transaction and truncates only under an exclusive
// lock, so the map never reaches past the end of the file.
func OpenMapped(ctx context.Context, path string) (*sql.DB, error) {
	RollBack(ctx, path)
	return openRead(ctx, DSN(path, true)+"&_pragma=mmap_size(268435456)")
}

func openRead(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
