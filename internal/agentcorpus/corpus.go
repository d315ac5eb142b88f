// Package agentcorpus lists the agent streams that tests replay (the
// project's fixtures, and the shared corpus of real captures where it is
// there) and works out, with encoding/json and independently of convlog's
// parser, what each of them holds: tool calls and their statuses, the
// session's id, model, tokens, cost and result.
package agentcorpus

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// root is the repository's root folder.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// FixtureDir is the folder of the project's own agent fixtures, one folder
// per agent (and "mixed" for streams of several).
func FixtureDir() string {
	return filepath.Join(root(), "stream", "testdata", "agents")
}

// CorpusDir is the shared corpus of real captures, ../shared/corpus/agents
// beside the repository (or under $CONVLOG_CORPUS); "" when it is not there.
func CorpusDir() string {
	dir := filepath.Join(root(), "..", "shared", "corpus")
	if env := os.Getenv("CONVLOG_CORPUS"); env != "" {
		dir = env
	}
	dir = filepath.Join(dir, "agents")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

// Files lists every agent stream to replay: the fixtures, then the
// corpus's captures (its .template files too: they are not valid JSON
// throughout, which is a case of its own).
func Files() []string {
	var files []string
	for _, dir := range []string{FixtureDir(), CorpusDir()} {
		if dir == "" {
			continue
		}
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".jsonl.template")) {
				files = append(files, path)
			}
			return nil
		})
	}
	sort.Strings(files)
	return files
}
