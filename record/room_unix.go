//go:build unix

package record

import (
	"math"

	"golang.org/x/sys/unix"
)

// freeSpace is what an unprivileged process may still write on the disk
// of dir; math.MaxInt64 when it cannot be told.
func freeSpace(dir string) int64 {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return math.MaxInt64
	}
	// In floats: the fields' types differ from one system to the next
	// (signed on some), and the product may not fit an int64.
	avail := float64(st.Bavail) * float64(st.Bsize)
	switch {
	case avail <= 0:
		return 0
	case avail >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(avail)
}

// fileSizeLimit is the largest file this process may write (ulimit -f);
// math.MaxInt64 when there is no limit.
func fileSizeLimit() int64 {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_FSIZE, &lim) != nil || lim.Cur == unix.RLIM_INFINITY || lim.Cur > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(lim.Cur)
}
