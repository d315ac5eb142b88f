//go:build !unix

package record

import (
	"errors"
	"os"
)

// Elsewhere a file to import is read into memory whole (mapFile's way for
// file systems that cannot map files).
func mmapFile(*os.File, int) ([]byte, error) {
	return nil, errors.New("no memory maps here")
}

func munmap([]byte) {}

func adviseSequential([]byte) {}

func adviseDontNeed([]byte) {}
