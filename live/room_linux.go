package live

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeRoom returns, when f is a pipe, a function that says how many bytes
// can be written to it now without blocking, and the pipe's capacity.
func pipeRoom(f *os.File) (func() int, int) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, 0
	}
	size := 0
	if cerr := rc.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) }); cerr != nil || err != nil || size <= 0 {
		return nil, 0
	}
	// TIOCINQ is Linux's FIONREAD: on a pipe, the bytes in it not yet read.
	return func() int {
		n := 0
		var err error
		if cerr := rc.Control(func(fd uintptr) { n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); cerr != nil || err != nil {
			return -1
		}
		return size - n
	}, size
}
