package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/record"
	cloudsync "github.com/convlog/convlog/sync"
)

// PruneCmd is `convlog prune`: remove old session files. Their sessions
// stay in the archive, which is brought up to date first: a session the
// archive holds whole is safe to prune. Where TURSO_DATABASE_URL is set,
// sessions not yet synced to it are kept too, unless asked otherwise, since
// sync sends session files.
type PruneCmd struct {
	OlderThan       string `name:"older-than" required:"" placeholder:"AGE" help:"Remove sessions older than AGE: 30d, 2w, 12h, or a Go duration such as 90m. A session's age counts from its end; an incomplete one's from the last change of its file."`
	DryRun          bool   `name:"dry-run" help:"Print what would be removed, and remove nothing (exit status 0)."`
	IncludeUnsynced bool   `name:"include-unsynced" help:"Where TURSO_DATABASE_URL is set, also remove sessions that are not synced to it."`
	Dir             string `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder of session files."`
	Archive         string `env:"CONVLOG_ARCHIVE" placeholder:"FILE" help:"The archive that keeps the sessions' history (default: convlog.db in the parent folder of --dir)."`

	age time.Duration
}

// Validate is called by kong, so that a bad age is a usage error.
func (c *PruneCmd) Validate() error {
	if c.OlderThan == "" {
		return errors.New("missing flag --older-than: say how old a session must be to go, e.g. --older-than 30d")
	}
	d, err := parseAge(c.OlderThan)
	if err != nil {
		return fmt.Errorf("--older-than: %w", err)
	}
	c.age = d
	return nil
}

// parseAge reads 30d, 2w, 12h, 45m, 10s or any Go duration.
func parseAge(s string) (time.Duration, error) {
	if m := ageBound.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil {
			unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
			return time.Duration(n) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not an age: write 30d, 2w, 12h or a Go duration", s)
	}
	return d, nil
}

// pruned is a session file that is (or would be) removed.
type pruned struct {
	path, id string
	at       time.Time // what its age counts from
	bytes    int64
}

// Run implements `convlog prune`.
func (c *PruneCmd) Run(env *Env) error {
	ctx := env.Ctx
	now := time.Now()
	cutoff := now.Add(-c.age)
	if err := checkDir(c.Dir); err != nil {
		return err
	}

	// The history outlives the files: take every session into the archive
	// before any file goes.
	arch := archive.Open(c.Dir, c.Archive, env.Schema)
	shown := followUpdate(env, arch)
	up, err := arch.Update(ctx)
	shown()
	if err != nil {
		return fmt.Errorf("%w; nothing was removed", err)
	}
	for _, p := range up.Problems {
		fmt.Fprintf(env.Stderr, "convlog: warning: %v (left alone)\n", p)
	}
	files, err := archive.SessionFiles(c.Dir, up.Path)
	if err != nil {
		return fmt.Errorf("list %s: %w", c.Dir, err)
	}
	held, err := arch.Holds(ctx, files)
	if err != nil {
		return fmt.Errorf("%w; nothing was removed", err)
	}
	entries, err := record.ListSessions(ctx, c.Dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", c.Dir, err)
	}
	keys := make(map[string]archive.Key, len(files))
	for _, f := range files {
		keys[f.Path] = f.Key
	}

	target := cloudsync.Target{URL: env.Getenv("TURSO_DATABASE_URL")}
	var gone []pruned
	var unsynced, unarchived []string
	for _, e := range entries {
		if e.Err != nil {
			continue // reported by the archive update
		}
		abs, err := filepath.Abs(e.Path)
		if err != nil {
			continue
		}
		k, ok := keys[abs]
		if !ok {
			continue // removed meanwhile, or the archive itself
		}
		at := time.Unix(0, max(k.Mtime, k.WalMtime))
		if e.Session.EndedAt != nil {
			at = time.UnixMilli(*e.Session.EndedAt)
		}
		if !at.Before(cutoff) {
			continue
		}
		if !held[abs] {
			unarchived = append(unarchived, e.ID)
			continue
		}
		if target.URL != "" && !c.IncludeUnsynced {
			synced, err := cloudsync.Synced(ctx, e.Path, target, env.Schema)
			if err != nil {
				fmt.Fprintf(env.Stderr, "convlog: warning: %s: %v (kept)\n", e.Path, err)
			}
			if !synced {
				unsynced = append(unsynced, e.ID)
				continue
			}
		}
		gone = append(gone, pruned{path: e.Path, id: e.ID, at: at, bytes: fileBytes(e.Path)})
	}

	verb, total := "Removed", int64(0)
	if c.DryRun {
		verb = "Would remove"
	}
	removed := 0
	for _, p := range gone {
		if !c.DryRun {
			if err := removeSession(p.path); err != nil {
				fmt.Fprintf(env.Stderr, "convlog: could not remove %s: %v\n", p.path, err)
				continue
			}
		}
		removed++
		total += p.bytes
		fmt.Fprintf(env.Stdout, "%s %s (session %s, %s, %s)\n", verb, p.path, p.id, p.at.UTC().Format("2006-01-02 15:04"), byteSize(p.bytes))
	}
	switch {
	case removed > 0 && c.DryRun:
		fmt.Fprintf(env.Stdout, "Would remove %d %s older than %s and free %s; the archive %s keeps their history.\n",
			removed, plural(removed, "session", "sessions"), c.OlderThan, byteSize(total), up.Path)
	case removed > 0:
		fmt.Fprintf(env.Stdout, "Removed %d %s older than %s, freed %s; the archive %s keeps their history.\n",
			removed, plural(removed, "session", "sessions"), c.OlderThan, byteSize(total), up.Path)
	case len(unsynced) == 0 && len(unarchived) == 0:
		fmt.Fprintf(env.Stdout, "No sessions older than %s in %s.\n", c.OlderThan, c.Dir)
	}

	keep := "kept"
	if c.DryRun {
		keep = "would keep"
	}
	var kept []string
	if len(unarchived) > 0 {
		kept = append(kept, fmt.Sprintf("%s %d %s older than %s that changed while the archive read them (%s); run prune again",
			keep, len(unarchived), plural(len(unarchived), "session", "sessions"), c.OlderThan, idList(unarchived)))
	}
	if len(unsynced) > 0 {
		kept = append(kept, fmt.Sprintf("%s %d %s older than %s that %s not synced to %s (%s). Run `convlog sync --all` first, or pass --include-unsynced to remove them anyway (the archive keeps their history)",
			keep, len(unsynced), plural(len(unsynced), "session", "sessions"), c.OlderThan, plural(len(unsynced), "is", "are"), target.Display(), idList(unsynced)))
	}
	if len(kept) == 0 {
		return nil
	}
	msg := strings.Join(kept, "\nconvlog: ")
	if c.DryRun {
		// A dry run only reports: what it would keep is part of the report.
		fmt.Fprintf(env.Stderr, "convlog: %s\n", msg)
		return nil
	}
	return &exitError{Code: 1, Err: errors.New(msg)}
}

// idList names sessions, the first few of them.
func idList(ids []string) string {
	const show = 5
	if len(ids) <= show {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:show], ", "), len(ids)-show)
}

// sessionCompanions are the files SQLite keeps beside a database.
var sessionCompanions = []string{"", "-wal", "-shm", "-journal"}

// fileBytes is the size of a session file with its companions.
func fileBytes(path string) int64 {
	var n int64
	for _, s := range sessionCompanions {
		if st, err := os.Stat(path + s); err == nil {
			n += st.Size()
		}
	}
	return n
}

// removeSession removes a session file and its companions. The database
// goes first: a failure after it leaves at most a stray companion, never a
// database without its latest writes.
func removeSession(path string) error {
	for _, s := range sessionCompanions {
		if err := os.Remove(path + s); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// byteSize is a size for people, in powers of 1000.
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	}
}
