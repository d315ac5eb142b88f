package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// writeMarkdown writes the Markdown summary of s, read through r: what
// `convlog query --markdown` prints and `convlog tee --summary` appends.
func writeMarkdown(ctx context.Context, r *record.Reader, s *record.Session, w io.Writer) error {
	md := report.NewMarkdown(s)
	if err := r.ToolOutcomes(ctx, s.ID, md.ToolCall); err != nil {
		return err
	}
	final, err := r.FinalMessages(ctx, s)
	if err != nil {
		return err
	}
	md.Final(final)
	_, err = md.WriteTo(w)
	return err
}

// Validate refuses --markdown together with --messages or --tools: the
// summary has a shape of its own, and a step summary has no room for every
// message.
func (c *QueryCmd) Validate() error {
	if c.Markdown && (c.Messages || c.Tools) {
		return errors.New("--markdown is a summary of its own; it does not take --messages or --tools")
	}
	return nil
}

// appendSummary is the end of `convlog tee` when a summary file is set
// (--summary, CONVLOG_SUMMARY, or GITHUB_STEP_SUMMARY in GitHub Actions):
// the finished session is read back and its Markdown appended. A failure is
// a warning; it changes the exit status only under --strict.
func (c *TeeCmd) appendSummary(env *Env, sessionPath string, warn *warner) {
	if c.Summary == "" || c.NoSummary || sessionPath == "" {
		return
	}
	if err := appendSummary(env.Ctx, sessionPath, c.Summary); err != nil {
		warn.Printf("cannot write the summary to %s: %v", c.Summary, err)
	}
}

func appendSummary(ctx context.Context, sessionPath, file string) error {
	r, err := record.OpenReader(ctx, sessionPath)
	if err != nil {
		return err
	}
	defer r.Close()
	s, err := r.Session(ctx)
	if err != nil {
		return err
	}
	// Rendered whole before the file is opened, then written at once, so
	// that a failure leaves no half summary behind and another step's
	// writes cannot land inside it.
	var buf bytes.Buffer
	if err := writeMarkdown(ctx, r, s, &buf); err != nil {
		return err
	}
	// 0600 when it is created: like the session files, it holds transcript
	// text. It is never truncated, since other steps append to it too.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	data := buf.Bytes()
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		// A blank line ends whatever the file holds, so the heading starts
		// a block of its own.
		data = append([]byte("\n"), data...)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
