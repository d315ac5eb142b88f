package sync

import "context"

// MarkStore keeps marks (what a target has of each session file) somewhere
// other than the session files. By default a sync writes its mark into each
// file it sends; a target that is a local copy of the files, such as
// convlog's archive, keeps them itself instead: then bringing it up to date
// writes nothing into the session files, costs no disk flush per file, and
// leaves their modification times alone.
type MarkStore interface {
	// LoadMark returns the mark saved for the file at path and the target
	// with id target; "" when there is none.
	LoadMark(ctx context.Context, path, target string) (string, error)
	// SaveMark saves it; url is the target as it may be shown. A mark that
	// is not saved only makes the next run send those rows again.
	SaveMark(ctx context.Context, path, target, url, state string) error
}
