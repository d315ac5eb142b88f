package web

import (
	"bufio"
	"crypto/sha256"
	_ "embed" // the page's script and style
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"sync"
)

// The page's script and style, embedded as strings (no copy is made at
// start).
var (
	//go:embed assets/session.js
	sessionJS string
	//go:embed assets/style.css
	styleCSS string
)

// hash is the CSP source for an inline script or style.
func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

// The content security policies. Pages carry their script and style inline,
// allowed by their hashes; nothing else is allowed, so that a page loads
// nothing from anywhere, and text from a session that slipped through as
// markup could still not run. They are made when first needed: every
// command's start would otherwise hash the script.
var (
	// FileCSP is the policy of a page written to a file, in a meta element:
	// no connection at all.
	FileCSP = sync.OnceValue(func() string {
		return "default-src 'none'; script-src " + hash(sessionJS) + "; style-src " + hash(styleCSS) +
			"; img-src data:; base-uri 'none'; form-action 'none'"
	})
	// ServeCSP is the policy of convlog serve's responses: the same, plus
	// the event stream of a live page and the list's filter form, to the
	// server itself.
	ServeCSP = sync.OnceValue(func() string {
		return "default-src 'none'; script-src " + hash(sessionJS) + "; style-src " + hash(styleCSS) +
			"; img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	})
)

// PageOptions say where a session page is shown.
type PageOptions struct {
	// File: the page is a file of its own, opened from disk: its policy
	// is in a meta element, and it has no links to the web app.
	File bool
}

// WritePage writes the session page: one HTML document with its style,
// script and data inline.
func WritePage(w io.Writer, pg *Page, opt PageOptions) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	title := "convlog session " + pg.Session.ID
	if pg.Session.Model != "" {
		title += " · " + pg.Session.Model
	}
	bw.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	bw.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	if opt.File {
		bw.WriteString("<meta http-equiv=\"Content-Security-Policy\" content=\"" + html.EscapeString(FileCSP()) + "\">\n")
	}
	bw.WriteString("<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"generator\" content=\"convlog\">\n")
	bw.WriteString("<title>" + html.EscapeString(title) + "</title>\n<link rel=\"icon\" href=\"data:,\">\n")
	bw.WriteString("<style>" + styleCSS + "</style>\n</head>\n<body class=\"session\">\n")
	if !opt.File {
		bw.WriteString(navHTML)
	}
	bw.WriteString("<header id=\"head\"></header>\n<section id=\"timeline\"></section>\n<div id=\"filters\"></div>\n<main id=\"conv\"></main>\n")
	bw.WriteString("<noscript><p>This page draws the session with its script; open it in a browser with JavaScript on.</p></noscript>\n")
	bw.WriteString("<script type=\"application/json\" id=\"data\">")
	if err := writeData(bw, pg); err != nil {
		return err
	}
	bw.WriteString("</script>\n<script>" + sessionJS + "</script>\n</body>\n</html>\n")
	return bw.Flush()
}

// writeData writes the page's data for its script element: Page as JSON,
// an item or a call at a time, so that a big session is not held twice in
// memory. encoding/json escapes <, > and & in strings, so that no text of
// the session can close the element or open a comment in it.
func writeData(w io.Writer, pg *Page) error {
	enc := json.NewEncoder(w)
	var err error
	put := func(s string) {
		if err == nil {
			_, err = io.WriteString(w, s)
		}
	}
	val := func(v any) {
		if err == nil {
			err = enc.Encode(v)
		}
	}
	put(`{"session":`)
	val(&pg.Session)
	put(`,"items":[`)
	for i := range pg.Items {
		if i > 0 {
			put(",")
		}
		val(&pg.Items[i])
	}
	put(`],"calls":[`)
	for i := range pg.Calls {
		if i > 0 {
			put(",")
		}
		val(&pg.Calls[i])
	}
	put(`],"hidden":`)
	val(pg.Hidden)
	put(`,"live":`)
	val(pg.Live)
	put(`,"now":`)
	val(pg.Now)
	put("}")
	return err
}

const navHTML = "<nav class=\"top\"><a class=\"brand\" href=\"/\">convlog</a><a href=\"/\">sessions</a><a href=\"/stats\">stats</a></nav>\n"
