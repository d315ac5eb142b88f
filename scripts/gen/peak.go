package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runPeak is `gen peak -o FILE CMD ARGS...`: it runs CMD with this process's
// stdin, stdout and stderr, and writes to FILE two figures in KiB, one per
// line, for CMD and every process it starts:
//
//  1. the peak of the memory they use together: at each reading, their
//     anonymous and shared-memory pages added up, plus the largest one's
//     file pages (processes of one binary share its pages in the page
//     cache; counting them once per process counts them twice). It is never
//     below the largest process's own peak, the kernel's exact figure from
//     wait4, which is what GNU time reports and what a one-process command
//     gets.
//  2. an upper bound: each process's own peak (VmHWM), added up, shared
//     pages and all.
//
// Readings are every 10 ms while the processes live. It returns CMD's exit
// status.
func runPeak(args []string) (int, error) {
	fs := flag.NewFlagSet("peak", flag.ContinueOnError)
	out := fs.String("o", "", "file to write the peak RSS in KiB to")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if *out == "" || fs.NArg() == 0 {
		return 0, errors.New("peak: usage: gen peak -o FILE CMD [ARGS...]")
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Signals meant for the command (a Ctrl-C of the bench) reach it as
	// they would without gen in between.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	hwm := map[int]int64{} // pid → its peak, KiB
	var together int64
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for running := true; running; {
		var now treeMem
		now.read(cmd.Process.Pid, hwm)
		together = max(together, now.private+now.maxFile)
		select {
		case <-done:
			running = false
		case <-tick.C:
		}
	}
	var upper, largest int64
	for _, kib := range hwm {
		upper += kib
		largest = max(largest, kib)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		// ru_maxrss is in KiB on Linux: the largest process's exact peak.
		if exact := int64(ru.Maxrss); exact > largest {
			upper += exact - largest
			largest = exact
		}
	}
	together = max(together, largest)
	text := fmt.Sprintf("%d\n%d\n", together, upper)
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		return 0, err
	}
	return cmd.ProcessState.ExitCode(), nil
}

// treeMem is one reading of a process tree's memory, in KiB.
type treeMem struct {
	private int64 // anonymous and shared-memory pages, added up
	maxFile int64 // the most file pages of any one process
}

// read adds pid and all its descendants, and raises their peaks in hwm.
func (m *treeMem) read(pid int, hwm map[int]int64) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return
	}
	field := func(name string) int64 {
		i := bytes.Index(status, []byte("\n"+name+":"))
		if i < 0 {
			return 0
		}
		f := strings.Fields(string(status[i+len(name)+2:]))
		if len(f) == 0 {
			return 0
		}
		kib, _ := strconv.ParseInt(f[0], 10, 64)
		return kib
	}
	hwm[pid] = max(hwm[pid], field("VmHWM"))
	m.private += field("RssAnon") + field("RssShmem")
	m.maxFile = max(m.maxFile, field("RssFile"))
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, k := range strings.Fields(string(kids)) {
			if child, err := strconv.Atoi(k); err == nil {
				m.read(child, hwm)
			}
		}
	}
}
