package record

import (
	"errors"
	"os"
	"strings"
)

// Trouble is a kind of storage error, sorted by what the user can do about
// it: the commands that write session files or the archive word their
// advice by it.
type Trouble int

const (
	otherTrouble Trouble = iota
	CannotWrite          // permission denied, or a read-only file or folder
	NoSpace              // a full disk, or a file over a size limit
	// IOTrouble is SQLite's I/O error, which does not pass on the errno; a
	// full disk or a file size limit are the usual causes.
	IOTrouble
	LockedOut // another process holds a lock
)

// TroubleOf sorts err. SQLite's errors reach Go as text, so the text is
// what is read.
func TroubleOf(err error) Trouble {
	msg := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, os.ErrPermission) || strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only") || strings.Contains(msg, "permission"):
		return CannotWrite
	case strings.Contains(msg, "full") || strings.Contains(msg, "no space") || strings.Contains(msg, "too large"):
		return NoSpace
	case strings.Contains(msg, "i/o error"):
		return IOTrouble
	case strings.Contains(msg, "locked") || strings.Contains(msg, "busy"):
		return LockedOut
	}
	return otherTrouble
}
