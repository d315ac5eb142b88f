package stream

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// GrowPipe enlarges the kernel buffer of a pipe (best effort): with 1 MiB
// instead of 64 KiB, a fast writer and reader make far fewer context switches,
// and small lines are not delayed by it.
func GrowPipe(f *os.File) {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return
	}
	unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, 1<<20)
}

// inputBuffer is InputBuffer's default: the capacity of a pipe, else 1 MiB.
func inputBuffer(r io.Reader) int {
	if h, ok := r.(HandOver); ok {
		r = h.Source()
	}
	n := 0
	if f, ok := r.(*os.File); ok {
		if rc, err := f.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { n, _ = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
		}
	}
	if n <= 0 {
		n = 1 << 20
	}
	return n
}
