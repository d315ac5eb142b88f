//go:build linux

package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/convlog/convlog/stream"
)

// child is a pass-through process as tee sees it: its pipes, counted, the
// shared memory, and the totals of its I/O once it has died.
type child struct {
	cmd     *exec.Cmd
	src     *relaySource
	control *controlPipe
	mem     *os.File // the memfd, of memSize bytes
	memSize int
	stderr  *stderrCopy
	said    helloInfo

	exited chan struct{} // closed once dead, and io is set
	io     procIO

	offered bool // to the Handover, which takes it over if it dies

	mu     sync.Mutex
	report *deathReport
	out    io.Writer // where takeBack writes what the process did not
}

// procIO is what /proc/<pid>/io said of a dead process.
type procIO struct {
	rchar, wchar int64
	err          error
}

// startChild starts `convlog tee --relay` with what it inherits, unless
// stopped is set (under mu) by then.
func startChild(p Process, mu *sync.Mutex, stopped *bool) (*child, error) {
	// tee closes its stdout once it has stopped the process from starting.
	mu.Lock()
	var (
		in, out *os.File
		err     = errStopped
	)
	if !*stopped {
		in, err = forRelay(p.In, unix.O_RDONLY, true)
		if err == nil {
			if out, err = forRelay(p.Out, unix.O_WRONLY, false); err != nil {
				in.Close()
			}
		}
	}
	mu.Unlock()
	if err != nil {
		return nil, err
	}
	defer in.Close()
	defer out.Close()
	var files []*os.File // closed here once the child has them, or on failure
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err == nil {
			files = append(files, w)
		}
		return
	}
	relayR, relayW, err := pipe()
	if err != nil {
		return nil, err
	}
	controlR, controlW, err := os.Pipe()
	if err != nil {
		relayR.Close()
		return nil, err
	}
	files = append(files, controlR)
	stderrR, stderrW, err := pipe()
	if err != nil {
		relayR.Close()
		controlR.Close()
		controlW.Close()
		return nil, err
	}
	c := &child{
		src:     &relaySource{f: relayR},
		control: &controlPipe{w: controlW},
		stderr:  &stderrCopy{r: stderrR, to: p.Stderr, done: make(chan struct{})},
		exited:  make(chan struct{}),
		memSize: ringSize(relayBufSize, relayStarved),
	}
	// tee keeps a read end of fd 4, to count what the process has read.
	if c.control.r, err = dup(controlR); err == nil {
		c.mem, err = memfd(c.memSize)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	cmd := exec.Command(p.Exe, "tee", "--relay")
	cmd.Args[0] = "convlog" // for ps, rather than /proc/self/exe
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, stderrW
	cmd.ExtraFiles = []*os.File{relayW, controlR, c.mem}
	// The runtime rechecks its cgroup's CPU limit every second otherwise,
	// with reads that would count as the process's own (see ownIOOnly).
	// And no garbage collection: one wakes the runtime's scavenger, whose
	// timer starts the poller, and the poller's eventfd is I/O of the
	// process's own too. A race build collected twice parsing its command
	// line, and then could not be taken over in one start of five; the
	// process allocates next to nothing once started (not one collection
	// in a 200 MB stream at Go's default).
	cmd.Env = append(os.Environ(), "GODEBUG="+joinDebug(os.Getenv("GODEBUG"), "updatemaxprocs=0"), "GOGC=off")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	mu.Lock()
	err = errStopped
	if !*stopped {
		err = cmd.Start()
	}
	mu.Unlock()
	if err != nil {
		c.close()
		return nil, err
	}
	c.cmd = cmd
	stream.GrowPipe(relayR)
	c.src.rr = newRelayReader(c.src)
	return c, nil
}

var errStopped = errors.New("relay: stopped before it started")

// forRelay returns a descriptor of f's for the pass-through process, which
// must only get descriptors in blocking mode: the Go runtime polls those that
// are not, and its poller reads and writes on its own. A pipe is opened
// anew, through /proc, so that its flags are its own; anything else is
// taken as it is if it is in blocking mode. pipeOnly refuses all but pipes.
func forRelay(f *os.File, mode int, pipeOnly bool) (*os.File, error) {
	if f == nil {
		return nil, errors.New("relay: no file")
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFIFO {
		fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), mode|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), f.Name()), nil
	}
	if pipeOnly {
		return nil, errors.New("relay: not a pipe")
	}
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil || flags&unix.O_NONBLOCK != 0 {
		return nil, errors.New("relay: a descriptor in non-blocking mode")
	}
	return dup(f)
}

func dup(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

func memfd(size int) (*os.File, error) {
	fd, err := unix.MemfdCreate("convlog-relay", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "convlog-relay"), nil
}

// joinDebug adds a setting to a GODEBUG value; the last one wins.
func joinDebug(godebug, setting string) string {
	if godebug == "" {
		return setting
	}
	return godebug + "," + setting
}

// readHello reads the process's hello, and notes what its stderr held by
// then; from then on the stderr is passed on to tee's, and counted.
func (c *child) readHello() error {
	err := c.src.rr.readHello()
	if err == nil {
		c.said = c.src.rr.said
		if !c.said.Exact || c.said.BufSize != relayBufSize {
			err = errors.New("relay: the process cannot be taken over exactly")
		}
	}
	// The process waits for its "go" now, and writes nothing.
	if n, e := unread(c.stderr.r); e == nil {
		c.stderr.before = n
	} else if err == nil {
		err = e
	}
	go c.stderr.run()
	return err
}

// wait waits for the process to end, reads the totals of its I/O before
// reaping it (takeBack needs them), and reaps it.
func (c *child) wait() {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, c.cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			if err != nil {
				c.io.err = err
			}
			break
		}
	}
	if c.io.err == nil {
		c.io.rchar, c.io.wchar, c.io.err = readProcIO(c.cmd.Process.Pid)
	}
	close(c.exited)
	c.cmd.Wait()
}

// close closes what tee holds of the process, but what the Handover still
// needs once the process has been offered to it.
func (c *child) close() {
	c.control.Close()
	if c.offered {
		return
	}
	for _, f := range []*os.File{c.src.f, c.control.r, c.mem} {
		if f != nil {
			f.Close()
		}
	}
	if c.cmd == nil {
		c.stderr.r.Close()
	}
}

func readProcIO(pid int) (rchar, wchar int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, err
	}
	r, w, ok := parseIO(b)
	if !ok {
		return 0, 0, fmt.Errorf("relay: /proc/%d/io unreadable", pid)
	}
	return r, w, nil
}

// parseIO reads rchar and wchar from a /proc/<pid>/io.
func parseIO(b []byte) (rchar, wchar int64, ok bool) {
	var got int
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		k, v, found := bytes.Cut(line, []byte(": "))
		if !found {
			continue
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			continue
		}
		switch string(k) {
		case "rchar":
			rchar, got = n, got|1
		case "wchar":
			wchar, got = n, got|2
		}
	}
	return rchar, wchar, got == 3
}

// unread is how many bytes wait in the pipe f.
func unread(f *os.File) (int64, error) {
	sc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var (
		n    int
		ierr error
	)
	if err := sc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); err != nil {
		return 0, err
	}
	return int64(n), ierr
}

// relaySource is the read end of the relay pipe, counted. At its end, it
// goes on with what takeBack rebuilt, if the process died.
type relaySource struct {
	mu    sync.Mutex
	f     *os.File
	n     int64 // bytes read from f
	eof   bool
	rr    *relayReader // reading this
	onEOF func() io.Reader
	tail  io.Reader
}

func (s *relaySource) Read(p []byte) (int, error) {
	if s.tail != nil {
		return s.tail.Read(p)
	}
	s.mu.Lock()
	if s.eof {
		s.mu.Unlock()
		return 0, io.EOF
	}
	n, err := s.f.Read(p)
	s.n += int64(n)
	if err == io.EOF {
		s.eof = true
		s.f.Close()
	}
	onEOF := s.onEOF
	s.mu.Unlock()
	if err != io.EOF || n > 0 {
		return n, err
	}
	if onEOF != nil {
		if s.tail = onEOF(); s.tail != nil {
			return s.tail.Read(p)
		}
	}
	return 0, io.EOF
}

// total is how many bytes the process wrote to the pipe: those read, and
// those still in it. The process must be dead.
func (s *relaySource) total() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eof {
		return s.n, nil
	}
	n, err := unread(s.f)
	return s.n + n, err
}

// controlPipe is the write end of the process's fd 4, counted, with a read
// end of tee's own to see how much of it the process has read.
type controlPipe struct {
	mu      sync.Mutex
	w, r    *os.File
	written int64
	closed  bool
}

// Write writes without waiting: a word that does not fit is not said.
func (c *controlPipe) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, os.ErrClosed
	}
	sc, err := c.w.SyscallConn()
	if err != nil {
		return 0, err
	}
	var (
		n    int
		werr error
	)
	if err := sc.Write(func(fd uintptr) bool {
		n, werr = unix.Write(int(fd), p)
		return werr != unix.EINTR
	}); err != nil {
		return 0, err
	}
	n = max(n, 0)
	c.written += int64(n)
	if werr == nil && n < len(p) {
		werr = io.ErrShortWrite
	}
	return n, werr
}

// Close closes the write end: the process sees the end of its fd 4.
func (c *controlPipe) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.w.Close()
	}
	return nil
}

// taken is how many bytes the process has read.
func (c *controlPipe) taken() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := unread(c.r)
	return c.written - n, err
}

// stderrCopy passes the process's stderr on to tee's, counting it.
type stderrCopy struct {
	r      *os.File
	to     io.Writer
	before int64 // bytes written before the hello
	n      int64 // bytes read, when done is closed
	done   chan struct{}
}

func (s *stderrCopy) run() {
	defer close(s.done)
	defer s.r.Close()
	buf := make([]byte, 4096)
	for {
		n, err := s.r.Read(buf)
		if n > 0 {
			s.n += int64(n)
			if s.to != nil {
				s.to.Write(buf[:n])
			}
		}
		if err != nil {
			return
		}
	}
}
