package testkit

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Fault is a way a request can break between client and server.
type Fault int

const (
	// DropRequest closes the connection before the server sees anything.
	DropRequest Fault = iota + 1
	// CutRequest gives the server half of the request body, then closes
	// both connections, as a client killed mid-send would.
	CutRequest
	// DropResponse lets the server run the request, then closes the
	// client's connection without an answer: the work is done, but the
	// client cannot know.
	DropResponse
	// GarbleResponse lets the server run the request, then answers the
	// client with a 200 whose body is not the protocol's JSON.
	GarbleResponse
)

// Proxy forwards HTTP requests to a Server and breaks the ones it is told
// to, so that tests can put a failure at an exact point of a sync.
type Proxy struct {
	URL string

	srv    *Server
	mu     sync.Mutex
	count  int
	faults map[int]Fault
	token  string          // set: only requests that carry it are served
	auth   map[string]bool // the Authorization headers seen
}

// Proxy starts a proxy in front of s, closed when the test ends.
func (s *Server) Proxy(t testing.TB) *Proxy {
	t.Helper()
	p := &Proxy{srv: s, faults: map[int]Fault{}, auth: map[string]bool{}}
	hs := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(hs.Close)
	p.URL = hs.URL
	return p
}

// Break makes the n-th request from now on (1 is the next) fail with f.
func (p *Proxy) Break(n int, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[p.count+n] = f
}

// RequireToken makes the proxy answer 401, as Turso Cloud does, to every
// request that does not carry token as its bearer token: the local server
// checks no token, so this is what shows that convlog sends it.
func (p *Proxy) RequireToken(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.token = token
}

// Authorizations are the Authorization headers the proxy has seen.
func (p *Proxy) Authorizations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for a := range p.auth {
		out = append(out, a)
	}
	return out
}

// Requests is how many requests the proxy has received.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.count++
	fault := p.faults[p.count]
	delete(p.faults, p.count)
	auth := r.Header.Get("Authorization")
	p.auth[auth] = true
	refuse := p.token != "" && auth != "Bearer "+p.token
	p.mu.Unlock()
	if refuse {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}

	switch fault {
	case DropRequest:
		hangUp(w)
		return
	case CutRequest:
		p.sendHalf(r, body)
		hangUp(w)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.srv.URL+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		hangUp(w) // the server is gone: so is the connection
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil || fault == DropResponse {
		hangUp(w)
		return
	}
	if fault == GarbleResponse {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"baton":null,"results":[{"type":"ok","response":{"type":"exe`))
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

// sendHalf writes the request to the server with its full Content-Length
// but only half of its body, then closes the connection.
func (p *Proxy) sendHalf(r *http.Request, body []byte) {
	c, err := net.DialTimeout("tcp", p.srv.addr, 5*time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	var h bytes.Buffer
	fmt.Fprintf(&h, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\n",
		r.Method, r.URL.Path, p.srv.addr, strconv.Itoa(len(body)))
	if a := r.Header.Get("Authorization"); a != "" {
		fmt.Fprintf(&h, "Authorization: %s\r\n", a)
	}
	h.WriteString("\r\n")
	h.Write(body[:len(body)/2])
	c.Write(h.Bytes())
}

func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("testkit: response writer cannot be hijacked")
	}
	c, _, err := hj.Hijack()
	if err == nil {
		c.Close()
	}
}

func (f Fault) String() string {
	switch f {
	case DropRequest:
		return "DropRequest"
	case CutRequest:
		return "CutRequest"
	case DropResponse:
		return "DropResponse"
	case GarbleResponse:
		return "GarbleResponse"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}
