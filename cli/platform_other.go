//go:build !unix

package cli

import "io/fs"

// Elsewhere there is no file size signal, a signal that comes with the end
// of the input is seen only if it came first, and files are not told apart
// by device and inode (a file reached by two paths is imported twice).

func ignoreFileSizeLimit() {}

func flushSignals() {}

func keyOf(fs.FileInfo) (fileKey, bool) { return fileKey{}, false }
