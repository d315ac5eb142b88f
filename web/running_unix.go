//go:build unix

package web

import (
	"os"

	"golang.org/x/sys/unix"
)

// inUse says whether another process has a session file open in WAL mode,
// as convlog tee does while it runs: every connection to a WAL database
// holds a shared lock on byte 128 of its -shm file (SQLite's "DMS" lock)
// for as long as it is open. A tee that was killed holds nothing, so its
// session is not taken for a running one however recent its file. Locks of
// this process do not count (POSIX locks are per process).
func inUse(path string) bool {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return false
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 128, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		return false
	}
	return lk.Type != unix.F_UNLCK
}
