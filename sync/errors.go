package sync

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// Kind says what sort of failure an Error is, so that callers can tell
// people what to do about it.
type Kind int

const (
	KindServer      Kind = iota // the server failed a request (SQL error, 5xx)
	KindBadURL                  // the URL cannot name a libSQL database
	KindUnreachable             // no connection: DNS, refused, reset, TLS
	KindRejected                // the server refused the token (401/403)
	KindNotFound                // no database at that URL (404)
	KindTimeout                 // no answer in time
	KindSchema                  // the target's tables do not fit convlog's schema
	KindLocal                   // a local session file could not be read
)

func (k Kind) String() string {
	switch k {
	case KindBadURL:
		return "bad URL"
	case KindUnreachable:
		return "unreachable"
	case KindRejected:
		return "token rejected"
	case KindNotFound:
		return "not found"
	case KindTimeout:
		return "timeout"
	case KindSchema:
		return "schema mismatch"
	case KindLocal:
		return "local file"
	default:
		return "server error"
	}
}

// Error is a sync failure worded for people: what went wrong and what to
// do. Its text never holds the token.
type Error struct {
	Kind Kind
	Msg  string // one line, token-free
	Err  error  // the cause, for errors.Is/As; its text may hold anything
	// Retry says that trying again soon may well succeed.
	Retry bool
	// immediate: the cause is already gone; try again without waiting.
	immediate bool
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

var httpStatus = regexp.MustCompile(`error code (\d{3})\b`)

// classify turns an error from the client or the database into an *Error
// whose text names the target as display and never holds token.
func classify(err error, display, token string, timeout string) *Error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	clean := func(s string) string { return redact(s, token) }
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		certErr *x509.UnknownAuthorityError
		hostErr x509.HostnameError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindTimeout, Err: err,
			Msg: fmt.Sprintf("%s did not answer within %s; check the network, or allow more time with --timeout", display, timeout)}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindTimeout, Err: err, Msg: "interrupted"}
	case errors.As(err, &dnsErr):
		return &Error{Kind: KindUnreachable, Err: err,
			Msg: fmt.Sprintf("cannot reach %s: host %s not found; check TURSO_DATABASE_URL (turso db show <database> prints it) and the network", display, clean(dnsErr.Name))}
	case errors.As(err, &certErr), errors.As(err, &hostErr):
		return &Error{Kind: KindUnreachable, Err: err,
			Msg: fmt.Sprintf("cannot reach %s: its TLS certificate is not trusted (%s)", display, clean(rootCause(err).Error()))}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Kind: KindUnreachable, Err: err,
			Msg: fmt.Sprintf("cannot reach %s: connection refused; is the server running, and is TURSO_DATABASE_URL right?", display)}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return &Error{Kind: KindUnreachable, Err: err, Retry: true,
			Msg: fmt.Sprintf("%s closed the connection in the middle of a request", display)}
	case errors.As(err, &opErr):
		return &Error{Kind: KindUnreachable, Err: err,
			Msg: fmt.Sprintf("cannot reach %s: %s", display, clean(rootCause(err).Error()))}
	}
	msg := clean(err.Error())
	if m := httpStatus.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		detail := serverDetail(msg)
		switch {
		case code == 401 || code == 403:
			return &Error{Kind: KindRejected, Err: err,
				Msg: fmt.Sprintf("%s rejected the token (HTTP %d%s); check TURSO_AUTH_TOKEN, or create a new one with: turso db tokens create <database>", display, code, detail)}
		case code == 404:
			return &Error{Kind: KindNotFound, Err: err,
				Msg: fmt.Sprintf("%s has no database there (HTTP 404%s); check TURSO_DATABASE_URL (turso db show <database> prints it)", display, detail)}
		case code == 429 || code >= 500:
			return &Error{Kind: KindServer, Err: err, Retry: true,
				Msg: fmt.Sprintf("%s failed the request (HTTP %d%s)", display, code, detail)}
		default:
			return &Error{Kind: KindServer, Err: err,
				Msg: fmt.Sprintf("%s refused the request (HTTP %d%s)", display, code, detail)}
		}
	}
	if strings.Contains(msg, "cannot start a transaction within a transaction") {
		// The server's one connection was left inside a transaction by some
		// other client; this request's own ROLLBACK step has ended it.
		return &Error{Kind: KindServer, Err: err, Retry: true, immediate: true,
			Msg: fmt.Sprintf("%s was inside another client's transaction", display)}
	}
	return &Error{Kind: KindServer, Err: err, Msg: fmt.Sprintf("%s: %s", display, oneLine(serverText(msg)))}
}

// serverText drops the client's "failed to execute SQL:" framing.
func serverText(s string) string {
	for _, p := range []string{"failed to execute SQL:", "failed to execute SQL"} {
		s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), p))
	}
	return s
}

func serverDetail(msg string) string {
	i := strings.Index(msg, "error code ")
	if i < 0 {
		return ""
	}
	rest := msg[i+len("error code "):]
	if j := strings.Index(rest, ":"); j >= 0 {
		if d := strings.TrimSpace(rest[j+1:]); d != "" {
			return ": " + oneLine(d)
		}
	}
	return ""
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func rootCause(err error) error {
	for {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
			continue
		}
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// redact removes the token from s, whatever produced s.
func redact(s, token string) string {
	if len(token) >= 4 {
		s = strings.ReplaceAll(s, token, "[REDACTED]")
	}
	return s
}
