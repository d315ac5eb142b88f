package record

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// rawStmt is a prepared statement run through SQLite's C API directly, for
// the statements that carry a line's bytes. database/sql's driver copies
// every []byte and string argument into C memory before SQLite copies it
// again into the row; here SQLite reads the Go bytes in place
// (SQLITE_STATIC), which saves a copy of every stored byte, and of a huge
// line the memory that copy takes. The bytes must stay put until exec
// returns, which Go memory does; the bindings are cleared before it returns,
// so SQLite never keeps a pointer into Go memory.
//
// It runs on the connection of a database/sql Conn that the Writer holds
// for itself, one call at a time, like the rest of the Writer's work.
type rawStmt struct {
	tls  *libc.TLS
	db   uintptr // sqlite3*
	stmt uintptr // sqlite3_stmt*

	// keep holds exec's arguments while SQLite reads them. Storing them here
	// is what makes Go keep every byte bound in place on the heap: escape
	// analysis sees them escape, so none is on a goroutine stack, which
	// moves when it grows (and SQLite's calls are deep).
	keep []arg
	// cmem is the C copies of the arguments when they are not bound in
	// place (see bindInPlace).
	cmem []uintptr
}

// arg is one argument of exec: NULL, an integer, or text or a blob that is
// bound in place.
type arg struct {
	kind  argKind
	i     int64
	bytes []byte
	str   string
}

type argKind uint8

const (
	argNull argKind = iota
	argInt
	argText // bytes or str, UTF-8
	argBlob // bytes
)

func nullArg() arg            { return arg{} }
func intArg(i int64) arg      { return arg{kind: argInt, i: i} }
func strArg(s string) arg     { return arg{kind: argText, str: s} }
func textArg(b []byte) arg    { return arg{kind: argText, bytes: b} }
func blobArg(b []byte) arg    { return arg{kind: argBlob, bytes: b} }
func optStrArg(s string) arg  { return cond(s != "", strArg(s)) }
func optIntArg(i int64) arg   { return cond(i > 0, intArg(i)) }
func optTextArg(b []byte) arg { return cond(b != nil, textArg(b)) }
func cond(ok bool, a arg) arg {
	if ok {
		return a
	}
	return arg{}
}

// connHandle is the sqlite3* behind a database/sql Conn of the modernc
// driver.
func connHandle(ctx context.Context, conn *sql.Conn) (uintptr, error) {
	var db uintptr
	err := conn.Raw(func(dc any) error {
		v := reflect.ValueOf(dc)
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct {
			if f := v.FieldByName("db"); f.IsValid() && f.Kind() == reflect.Uintptr {
				db = uintptr(f.Uint())
			}
		}
		if db == 0 {
			return fmt.Errorf("no SQLite handle in %T", dc)
		}
		return nil
	})
	return db, err
}

// prepareRaw prepares q on the connection db.
func prepareRaw(db uintptr, q string) (*rawStmt, error) {
	s := &rawStmt{tls: libc.NewTLS(), db: db}
	cq, err := libc.CString(q)
	if err != nil {
		s.tls.Close()
		return nil, err
	}
	defer libc.Xfree(s.tls, cq)
	pp := libc.Xcalloc(s.tls, 1, libc.Tsize_t(unsafe.Sizeof(uintptr(0))))
	defer libc.Xfree(s.tls, pp)
	if rc := sqlite3.Xsqlite3_prepare_v2(s.tls, db, cq, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		err := s.err(rc)
		s.tls.Close()
		return nil, err
	}
	b := libc.GoBytes(pp, int(unsafe.Sizeof(uintptr(0))))
	s.stmt = *(*uintptr)(unsafe.Pointer(&b[0]))
	return s, nil
}

// exec runs the statement once with args.
func (s *rawStmt) exec(args ...arg) error {
	if s == nil || s.stmt == 0 {
		return errStmtClosed
	}
	s.keep = args
	defer func() {
		// SQLite lets go of the arguments before they are let go of here.
		sqlite3.Xsqlite3_reset(s.tls, s.stmt)
		sqlite3.Xsqlite3_clear_bindings(s.tls, s.stmt)
		for _, p := range s.cmem {
			libc.Xfree(s.tls, p)
		}
		s.cmem = s.cmem[:0]
		runtime.KeepAlive(s.keep)
		s.keep = nil
	}()
	for i := range args {
		if rc := s.bind(int32(i+1), &args[i]); rc != sqlite3.SQLITE_OK {
			return s.err(rc)
		}
	}
	if rc := sqlite3.Xsqlite3_step(s.tls, s.stmt); rc != sqlite3.SQLITE_DONE {
		return s.err(rc)
	}
	return nil
}

func (s *rawStmt) bind(i int32, a *arg) int32 {
	switch a.kind {
	case argInt:
		return sqlite3.Xsqlite3_bind_int64(s.tls, s.stmt, i, a.i)
	case argText, argBlob:
		p, n := a.ptr()
		if !bindInPlace && n > 0 {
			c, err := libc.CString(a.view())
			if err != nil {
				return sqlite3.SQLITE_NOMEM
			}
			s.cmem = append(s.cmem, c)
			p = c
		}
		if a.kind == argText {
			return sqlite3.Xsqlite3_bind_text(s.tls, s.stmt, i, p, n, 0)
		}
		return sqlite3.Xsqlite3_bind_blob(s.tls, s.stmt, i, p, n, 0)
	default:
		return sqlite3.Xsqlite3_bind_null(s.tls, s.stmt, i)
	}
}

// emptyBytes stands in for the address of an empty value: SQLite takes a
// NULL pointer for NULL, and an empty string or blob is not NULL.
var emptyBytes [1]byte

// ptr is the address and length of a's bytes, bound without copying.
func (a *arg) ptr() (uintptr, int32) {
	switch {
	case len(a.bytes) > 0:
		return uintptr(unsafe.Pointer(unsafe.SliceData(a.bytes))), int32(len(a.bytes))
	case len(a.str) > 0:
		return uintptr(unsafe.Pointer(unsafe.StringData(a.str))), int32(len(a.str))
	default:
		return uintptr(unsafe.Pointer(&emptyBytes[0])), 0
	}
}

// view is a's bytes as a string, without copying them.
func (a *arg) view() string {
	if len(a.bytes) > 0 {
		return unsafe.String(unsafe.SliceData(a.bytes), len(a.bytes))
	}
	return a.str
}

// err is SQLite's error for rc, worded as the database/sql driver words it.
func (s *rawStmt) err(rc int32) error {
	str := libc.GoString(sqlite3.Xsqlite3_errstr(s.tls, rc))
	msg := libc.GoString(sqlite3.Xsqlite3_errmsg(s.tls, s.db))
	if msg == "" || msg == str {
		return fmt.Errorf("%s (%d)", str, rc)
	}
	return fmt.Errorf("%s: %s (%d)", str, msg, rc)
}

var errStmtClosed = errors.New("statement is closed: the session file's connection was lost")

// close finalizes the statement; the connection stays open.
func (s *rawStmt) close() error {
	if s == nil || s.stmt == 0 {
		return nil
	}
	rc := sqlite3.Xsqlite3_finalize(s.tls, s.stmt)
	s.stmt = 0
	var err error
	if rc != sqlite3.SQLITE_OK {
		err = errors.New(libc.GoString(sqlite3.Xsqlite3_errstr(s.tls, rc)))
	}
	s.tls.Close()
	return err
}
