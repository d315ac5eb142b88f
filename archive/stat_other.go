//go:build !linux

package archive

import "os"

// folderStat stats the files of one folder (see stat_linux.go).
type folderStat struct{}

func newFolderStat(*os.File) folderStat { return folderStat{} }

// stat is the size and modification time (Unix ns) of the file name of
// the folder dir.
func (folderStat) stat(dir, name string) (size, mtime int64, err error) {
	st, err := os.Stat(dir + string(os.PathSeparator) + name)
	if err != nil {
		return 0, 0, err
	}
	return st.Size(), st.ModTime().UnixNano(), nil
}
