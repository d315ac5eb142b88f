//go:build unix

package record

import (
	"os"

	"golang.org/x/sys/unix"
)

func mmapFile(f *os.File, size int) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
}

func munmap(b []byte) { unix.Munmap(b) }

func adviseSequential(b []byte) { unix.Madvise(b, unix.MADV_SEQUENTIAL) }

func adviseDontNeed(b []byte) { unix.Madvise(b, unix.MADV_DONTNEED) }
