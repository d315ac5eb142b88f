package record

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/convlog/convlog/redact"
	"github.com/convlog/convlog/stream"
)

// importNamespace makes session ids of imports name-based (UUID v5): the same
// source gives the same id on every machine, so importing twice is harmless.
var importNamespace = uuid.MustParse("6f1c7a52-3d0e-4b8e-9a57-1c2b3d4e5f60")

// ImportResult says what Import did with one file.
type ImportResult struct {
	Path      string
	SessionID string
	Format    string // "stream-json" or "transcript"
	Agent     string // whose stream: "claude-code", "gemini-cli", …; "" when not known
	Skipped   bool   // unchanged since it was last imported
	Replaced  bool   // an earlier import of it was brought up to date
	Messages  int64
	ToolCalls int64
	Bytes     int64
	Files     int  // the file and its sub-agents' transcripts
	NoTimes   bool // the file carries no timestamps
}

// ImportError is a file that cannot be imported; its message says why and
// what to do.
type ImportError struct {
	Path string
	Err  error
}

func (e *ImportError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *ImportError) Unwrap() error { return e.Err }

// ImportOptions are the optional parts of an import.
type ImportOptions struct {
	Progress func(bytes int64) // told of bytes read, if set
	Redactor *redact.Redactor  // replaces secrets in the stored copy, if set
	// Format forces the agent whose stream every file is (--format);
	// unknown, each file's lines tell.
	Format stream.Agent
	// Reuse, when set, carries buffers from one import to the next: the
	// imports that share it must run one at a time.
	Reuse *ImportBuffers
	// Subagents are the transcripts of the session's sub-agents (see
	// PeekSubagent), stored after the session's own lines, in the same
	// session, as `convlog tee` of the run stores them.
	Subagents []string
}

// ImportBuffers are what one import leaves for the next (see ImportOptions).
type ImportBuffers struct {
	proc *stream.Processor
}

var tmpSeq atomic.Int64

// Import replays a saved stream (Claude Code's stream-json or transcript,
// or another agent's stream: Gemini CLI, Codex, Cursor, opencode) into the
// session file <dir>/<id>.db. Each file's format is told from its lines, so
// a folder may hold several agents' files. The file is written whole into a temporary
// file and renamed into place, so a session is never half imported, and an
// earlier import of the same source is replaced only by a complete one.
func Import(ctx context.Context, path, dir string, schema *Schema, opts ImportOptions) (ImportResult, error) {
	progress := opts.Progress
	res := ImportResult{Path: path}
	fail := func(format string, args ...any) (ImportResult, error) {
		return res, &ImportError{Path: path, Err: fmt.Errorf(format, args...)}
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("%w", errors.Unwrap(err))
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return fail("%w", err)
	case st.IsDir():
		return fail("is a folder; name the folder itself to import the .jsonl files in it")
	case st.Size() == 0:
		return fail("is empty; there is nothing to import")
	}
	res.Bytes, res.Files = st.Size(), 1+len(opts.Subagents)
	// The sub-agents' transcripts count in the size and time that say
	// whether the session changed since it was imported.
	mtime := st.ModTime().UnixMilli()
	var subs []*os.File
	defer func() {
		for _, f := range subs {
			f.Close()
		}
	}()
	for _, p := range opts.Subagents {
		f, err := os.Open(p)
		if err != nil {
			return fail("sub-agent transcript %w", err)
		}
		subs = append(subs, f)
		st, err := f.Stat()
		if err != nil {
			return fail("sub-agent transcript %s: %w", p, err)
		}
		res.Bytes += st.Size()
		mtime = max(mtime, st.ModTime().UnixMilli())
	}

	// The file is read through a memory map: lines are handed on where they
	// lie, with no read buffer, no copy and no line assembled from pieces.
	// It is the file as it was at its size here: lines added meanwhile are
	// the next import's, as its recorded size says.
	src, err := mapFile(f, st.Size())
	if err != nil {
		return fail("%w", err)
	}
	defer src.close()

	id, err := identify(ctx, path, src)
	if err != nil {
		return fail("%w", err)
	}
	res.Format, res.SessionID = id.format, id.sessionID
	own := id.own

	if err := MakeDir(dir); err != nil {
		return fail("session folder: %w", err)
	}
	abs, _ := filepath.Abs(path)
	final := filepath.Join(dir, res.SessionID+".db")
	before, ok := importedFrom(ctx, final)
	redo := false
	if !ok {
		for _, old := range id.legacy {
			// This file imported by an older convlog, under the id it
			// gave it: imported again into that session, which would
			// otherwise stay beside the new one (in the archive too, which
			// keeps every session it took in). Once more in any case if
			// the older import did not read it as its agent's.
			p := filepath.Join(dir, old+".db")
			if o, found := importedFrom(ctx, p); found && o.path == abs {
				res.SessionID, final, before, ok, redo = old, p, o, true, o.agent == ""
				break
			}
		}
	}
	if ok && before.size.Valid && before.mtime.Valid {
		// An import that left the end unknown (older convlogs did, for a
		// file without timestamps) is done again.
		if before.size.Int64 == res.Bytes && before.mtime.Int64 == mtime && before.ended.Valid && !redo {
			res.Skipped = true
			if progress != nil {
				progress(res.Bytes)
			}
			return res, nil
		}
		res.Replaced = true
	}

	meta := Meta{
		ID: res.SessionID, PromptLength: -1, Source: "import", SourceFormat: res.Format,
		SourcePath: abs, SourceSize: res.Bytes, SourceMtime: mtime,
	}
	tmp := filepath.Join(dir, "."+res.SessionID+".import-"+strconv.Itoa(os.Getpid())+"-"+strconv.FormatInt(tmpSeq.Add(1), 10))
	w, err := CreateFile(ctx, tmp, schema, meta, true)
	if err != nil {
		return fail("create %s: %w", tmp, err)
	}
	cleanup := func() {
		w.Close()
		os.Remove(tmp)
	}
	var prev *stream.Processor
	if opts.Reuse != nil {
		prev, opts.Reuse.proc = opts.Reuse.proc, nil
	}
	proc := stream.NewProcessorAfter(prev, w)
	proc.LineTimes = true
	proc.Redactor = opts.Redactor
	proc.Format = opts.Format
	proc.OwnSession = own
	current := path // the transcript whose lines are being read
	proc.PersistedOutput = func(preview []byte) ([]byte, bool) { return persistedOutput(current, preview) }
	line := func(l []byte) bool {
		proc.Line(l, 0)
		if w.txBytes >= BulkCommitBytes {
			// The file has no journal: a failure later throws it away.
			w.Commit(proc.Totals())
		}
		return true
	}
	cut := "ends in the middle of a line (truncated, or still being written); import it again once it is complete"
	if err := src.lines(ctx, len(src.data), line, progress); err != nil {
		cleanup()
		if errors.Is(err, errCutLine) {
			return fail("%s", cut)
		}
		return fail("%w", err)
	}
	for i, f := range subs {
		current = opts.Subagents[i]
		err := subagentLines(ctx, f, line, progress)
		if errors.Is(err, errCutLine) {
			err = errors.New(cut)
		}
		if err != nil {
			cleanup()
			return fail("sub-agent transcript %s %w", opts.Subagents[i], err)
		}
	}
	facts := proc.Totals()
	if opts.Reuse != nil {
		opts.Reuse.proc = proc
	}
	// A file without timestamps (a stream-json capture of Claude Code
	// before 2.1.7x, Codex's and Cursor's streams) ended when it was last
	// written: its modification time is the session's end, as tee's clock
	// is a stream's. Left unknown, every such session was "incomplete"
	// (the seed's ended_at IS NULL: still running, or its logger killed)
	// in list, stats and the summary. Its start stays unknown.
	ended := facts.LastTime
	if ended == 0 {
		ended = mtime
	}
	if err := w.Finish(facts, ended); err != nil || w.Err != nil {
		os.Remove(tmp)
		return fail("write %s: %w", tmp, errors.Join(w.Err, err))
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fail("%w", err)
	}
	res.Messages, res.ToolCalls = w.Messages, w.ToolCalls
	res.NoTimes = facts.FirstTime == 0
	res.Agent = facts.Agent.String()
	return res, nil
}

// subagentID is the agentId of a Claude Code sub-agent's transcript: the
// one its first line names, else the one in its file's name
// (agent-<id>.jsonl); "" for any other file.
func subagentID(path string, det *stream.Detector) string {
	switch {
	case det.Format() != stream.FormatTranscript || !det.Sidechain:
		return ""
	case det.SubagentID != "":
		return det.SubagentID
	}
	if id, ok := strings.CutPrefix(jsonlStem(path), "agent-"); ok && id != "" {
		return id
	}
	return ""
}

// resumedAs is the session a transcript was written for when its first
// lines are another's: Claude Code's transcript of a resumed or continued
// session begins with the earlier session's lines, under that session's
// id, and is named for its own id, which its later lines carry. Taken for
// the earlier session (the first id its lines name), it and the earlier
// session's transcript replaced each other at every import, whichever came
// last. "" for any other file.
func resumedAs(path string, det *stream.Detector, data []byte) string {
	if det.Format() != stream.FormatTranscript {
		return ""
	}
	stem := jsonlStem(path)
	if stem == det.AgentSessionID || uuid.Validate(stem) != nil ||
		!bytes.Contains(data, []byte(`"sessionId":"`+stem+`"`)) {
		return ""
	}
	return stem
}

// unnamedTranscript is the session of a Claude Code transcript whose lines
// name none, which its file's name does: a session opened and left
// without a prompt leaves a file of file-history-snapshot lines only, and
// some versions wrote files of summary lines only. "" for any other file.
func unnamedTranscript(path string, det *stream.Detector) string {
	stem := jsonlStem(path)
	if det.Format() != stream.FormatTranscript || det.AgentSessionID != "" || det.Agent != stream.AgentClaude || uuid.Validate(stem) != nil {
		return ""
	}
	return stem
}

// persistedRef is where a "<persisted-output>" preview names its file.
var persistedRef = regexp.MustCompile(`Full output saved to: ([^\n]+\.txt)`)

// persistedOutput reads the output that Claude Code kept in a file of its
// own (see stream.Processor.PersistedOutput), as the preview in
// transcript names it. Only a .txt file in a folder named tool-results is
// read: the session's, <session>/tool-results/ beside the transcript (or
// above a sub-agent's), where a copied or moved history has it, else the
// path as written.
func persistedOutput(transcript string, preview []byte) ([]byte, bool) {
	m := persistedRef.FindSubmatch(preview[:min(len(preview), 4096)])
	if m == nil {
		return nil, false
	}
	written := strings.TrimSpace(string(m[1]))
	base := written[strings.LastIndexAny(written, `/\`)+1:]
	dir := filepath.Dir(transcript)
	var candidates []string
	if filepath.Base(dir) == "subagents" {
		candidates = append(candidates, filepath.Join(filepath.Dir(dir), "tool-results", base))
	} else {
		candidates = append(candidates, filepath.Join(dir, jsonlStem(transcript), "tool-results", base))
	}
	if filepath.Base(filepath.Dir(written)) == "tool-results" {
		candidates = append(candidates, written)
	}
	for _, c := range candidates {
		if b, err := os.ReadFile(c); err == nil {
			return b, true
		}
	}
	return nil, false
}

// identity is what the start of a file to import says of it.
type identity struct {
	format    string   // stream.Format…
	sessionID string   // of the session an import of it makes
	own       string   // the agent session id the file's name gives (resumedAs, unnamedTranscript)
	legacy    []string // the ids an older convlog gave the file, if it named it otherwise
}

// errNotJSONL is a file to import none of whose lines is a JSON object.
var errNotJSONL = errors.New("is not JSONL (no line is a JSON object); convlog imports the JSON streams of Claude Code, Gemini CLI, Codex, Cursor and opencode, the session files of Claude Code and Codex, and Gemini CLI's saved chats")

// identify reads the start of the file at path (mapped in src): its
// format and agent session, and so the session an import of it makes.
func identify(ctx context.Context, path string, src *mapped) (identity, error) {
	var det stream.Detector
	head := src.data[:min(len(src.data), 64<<10)] // for files that name no session
	// (A cut last line is the import's to report.)
	if err := src.lines(ctx, 16<<20, func(l []byte) bool { det.Line(l); return !det.Enough() }, nil); err != nil && !errors.Is(err, errCutLine) {
		return identity{}, err
	}
	id := identity{format: det.Format()}
	if id.format == "" {
		return id, errNotJSONL
	}
	name := id.format + ":" + det.AgentSessionID
	if det.Chat {
		// Not the session of a stream-json capture of the same run, which
		// names the same id: each would replace the other at every import.
		name = "gemini-chat:" + det.AgentSessionID
	}
	if agent := subagentID(path, &det); agent != "" {
		// A sub-agent's transcript imported without its session's: a
		// session of its own, which the session's import cannot replace.
		name += ":agent:" + agent
	} else if id.own = resumedAs(path, &det, src.data); id.own != "" {
		name = id.format + ":" + id.own
	} else if id.own = unnamedTranscript(path, &det); id.own != "" {
		name = id.format + ":" + id.own
	}
	unnamed := det.AgentSessionID == ""
	var sum [sha256.Size]byte // of the head, for the files named by it: 64 KB each
	if unnamed || det.Rollout {
		sum = sha256.Sum256(head)
	}
	byContent := func(format string) string {
		return uuid.NewSHA1(importNamespace, []byte(format+":content:"+string(sum[:]))).String()
	}
	if unnamed && id.own == "" {
		id.sessionID = byContent(id.format)
		return id, nil
	}
	id.sessionID = uuid.NewSHA1(importNamespace, []byte(name)).String()
	if det.Rollout || unnamed {
		// Before convlog read Codex's session files and transcripts that
		// name no session (id.own), it named them by their content, as
		// one of these.
		id.legacy = []string{byContent(stream.FormatStreamJSON), byContent(stream.FormatTranscript)}
	}
	return id, nil
}

// ImportSessionID is the id of the session that Import of the file at
// path makes; "" if it cannot tell (Import then says why).
func ImportSessionID(ctx context.Context, path string) string {
	var id identity
	peek(path, func(src *mapped) { id, _ = identify(ctx, path, src) })
	return id.sessionID
}

// peek maps the whole file at path and hands it to fn; a file that cannot
// be opened or mapped is not looked at.
func peek(path string, fn func(src *mapped)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	src, err := mapWhole(f)
	if err != nil {
		return
	}
	defer src.close()
	fn(src)
}

// jsonlStem is a file's name without .jsonl: Claude Code names a
// transcript for its session, and a sub-agent's agent-<id>.
func jsonlStem(path string) string { return strings.TrimSuffix(filepath.Base(path), ".jsonl") }

// mapWhole maps the whole of f, as it is now.
func mapWhole(f *os.File) (*mapped, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return mapFile(f, st.Size())
}

// subagentLines hands each line of a sub-agent's transcript to line.
func subagentLines(ctx context.Context, f *os.File, line func([]byte) bool, progress func(int64)) error {
	src, err := mapWhole(f)
	if err != nil {
		return err
	}
	defer src.close()
	return src.lines(ctx, len(src.data), line, progress)
}

// PeekSubagent says whether the file at path is the transcript of a Claude
// Code sub-agent (agent-<id>.jsonl: in <session>/subagents/ since 2.1,
// beside the session's transcript before), and if so, of which session: its
// lines carry the session's id, so that imported alone, each would be
// taken for the session. Errors read as no.
func PeekSubagent(ctx context.Context, path string) (sessionID, agentID string) {
	peek(path, func(src *mapped) {
		// The first line that is a JSON object tells: the prompt the
		// sub-agent was given.
		var det stream.Detector
		src.lines(ctx, 16<<20, func(l []byte) bool { det.Line(l); return det.Objects == 0 }, nil)
		sessionID, agentID = det.AgentSessionID, subagentID(path, &det)
	})
	return sessionID, agentID
}

// previous is what a session file made by import records of its source.
type previous struct {
	size, mtime, ended sql.NullInt64
	path, agent        string
}

// importedFrom reads what the session file at path records of the file it
// was imported from; false if there is no such session file.
func importedFrom(ctx context.Context, path string) (previous, bool) {
	if _, err := os.Stat(path); err != nil {
		return previous{}, false
	}
	db, err := OpenReadOnly(ctx, path)
	if err != nil {
		return previous{}, false
	}
	defer db.Close()
	var pr previous
	var from, agent sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT source_size, source_mtime, ended_at, source_path, agent FROM sessions LIMIT 1`).Scan(&pr.size, &pr.mtime, &pr.ended, &from, &agent); err != nil {
		// A file older than sessions.agent.
		if err := db.QueryRowContext(ctx, `SELECT source_size, source_mtime, ended_at, source_path FROM sessions LIMIT 1`).Scan(&pr.size, &pr.mtime, &pr.ended, &from); err != nil {
			return previous{}, false
		}
	}
	pr.path, pr.agent = from.String, agent.String
	return pr, true
}
