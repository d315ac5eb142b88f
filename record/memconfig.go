package record

import (
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// SetupPageCache gives SQLite's page cache one buffer of slots, each for a
// database page of up to 64 KiB, shared by every connection; slots are the
// cache's pages that a command that writes session files needs at its
// busiest. It must run before the process's first SQLite connection, and
// does nothing after it.
//
// Without the buffer the page cache allocates page by page, and with this
// SQLite's memory allocator every 64 KiB page is a mapping of its own,
// handed back to the kernel (madvise, munmap) page by page when the
// connection closes. Those calls are slow on a virtual machine with more
// than one thread running: an import, which opens and closes a connection
// per session file, spent a quarter of its time in them. Slots in one
// buffer are taken from and returned to a free list instead, most recently
// freed first, so the memory touched is what the busiest moment needed.
// Setting the buffer up touches every slot once, about 15 µs each here,
// which is why it is sized per command rather than made large for all.
// Pages beyond the slots are allocated as before.
//
// SQLite takes the buffer only before it is initialized, which the first
// connection does: parsing schema.sql, at the start of every command, did
// it, so the buffer was refused and every page allocated on its own. It is
// shut down first then, which needs every connection closed: call this
// while none is open.
func SetupPageCache(slots int) {
	setupOnce.Do(func() { setupPageCache(slots) })
}

var setupOnce sync.Once

func setupPageCache(slots int) {
	tls := libc.NewTLS()
	defer tls.Close()
	// Each slot holds a page and SQLite's header for it.
	if !config(tls, sqlite3.SQLITE_CONFIG_PCACHE_HDRSZ, uintptr(unsafe.Pointer(&pageHeaderSize))) {
		return
	}
	slot := (writePageSize + int(pageHeaderSize) + 7) &^ 7
	buf := libc.Xmalloc(tls, libc.Tsize_t(slot*slots))
	if buf == 0 {
		return
	}
	ok := config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, buf, int32(slot), int32(slots))
	if !ok && sqlite3.Xsqlite3_shutdown(tls) == sqlite3.SQLITE_OK {
		ok = config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, buf, int32(slot), int32(slots))
	}
	if !ok {
		libc.Xfree(tls, buf)
	}
}

// config calls sqlite3_config(op, args...) and says whether SQLite took it.
func config(tls *libc.TLS, op int32, args ...any) bool {
	va := libc.NewVaList(args...)
	defer libc.Xfree(tls, va)
	return sqlite3.Xsqlite3_config(tls, op, va) == sqlite3.SQLITE_OK
}

// pageHeaderSize is where SQLite says how much it adds to each page; a
// global, so that its address stays put while SQLite writes it.
var pageHeaderSize int32
