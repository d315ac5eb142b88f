package sync

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/convlog/convlog/record"
)

// Synced says whether the session file at path has been sent whole to the
// target, judged from the file's own marks without contacting the target:
// the newest mark recorded for the target's URL (Target.Display) must
// account for every row the file holds now. A file that grew, or whose
// session row changed, since its last sync is not synced; nor is one that
// was never synced to that URL.
//
// Marks are looked up by URL because the target's id lives in the target;
// a database recreated behind the same URL is recognised by the next sync,
// not here.
func Synced(ctx context.Context, path string, t Target, schema *record.Schema) (bool, error) {
	if schema == nil {
		return false, errors.New("sync: a schema is required")
	}
	db, err := record.OpenReadOnly(ctx, path)
	if err != nil {
		return false, err
	}
	var id string
	err = db.QueryRowContext(ctx, "SELECT target FROM "+marksTable+" WHERE url = ? ORDER BY synced_at DESC LIMIT 1", t.Display()).Scan(&id)
	db.Close()
	switch {
	case errors.Is(err, sql.ErrNoRows), err != nil && strings.Contains(err.Error(), "no such table"):
		return false, nil
	case err != nil:
		return false, err
	}
	// What the target has, as far as the marks need to know: a target that
	// convlog synced to has every column of the schema it knows.
	info := &targetInfo{id: id, cols: map[string]map[string]bool{}, pk: map[string][]string{}}
	for _, table := range schema.Order() {
		set := map[string]bool{}
		for _, c := range schema.Tables()[table] {
			set[c.Name] = true
			if c.PK {
				info.pk[table] = append(info.pk[table], c.Name)
			}
		}
		info.cols[table] = set
	}
	s := &syncer{opts: Options{Schema: schema}, info: info}
	src := &source{path: path, whole: map[string][]*row{}, rep: &SessionReport{Path: path}}
	defer src.closeRead()
	if err := src.init(ctx, s); err != nil {
		return false, err
	}
	return src.rep.Todo == 0, nil
}
