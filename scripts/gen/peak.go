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
// stdin, stdout and stderr, and writes to FILE the peak RSS of CMD and every
// process it starts, in KiB, as the sum of each one's own peak. GNU time
// reports the largest process's peak only, which would leave out all but
// one process of a command that runs as several.
//
// Each process's peak (VmHWM) is read every 10 ms while it lives. The
// largest one's is also the kernel's exact figure from wait4, which takes in
// whatever it reached between the last reading and its exit. It returns
// CMD's exit status.
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
	peaks := map[int]int64{} // pid → KiB
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for running := true; running; {
		treePeaks(cmd.Process.Pid, peaks)
		select {
		case <-done:
			running = false
		case <-tick.C:
		}
	}
	var sum, largest int64
	for _, kib := range peaks {
		sum += kib
		largest = max(largest, kib)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		// ru_maxrss is in KiB on Linux: the largest process's exact peak.
		if exact := int64(ru.Maxrss); exact > largest {
			sum += exact - largest
		}
	}
	if err := os.WriteFile(*out, []byte(strconv.FormatInt(sum, 10)+"\n"), 0o644); err != nil {
		return 0, err
	}
	return cmd.ProcessState.ExitCode(), nil
}

// treePeaks records the VmHWM of pid and all its descendants.
func treePeaks(pid int, peaks map[int]int64) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return
	}
	if i := bytes.Index(status, []byte("VmHWM:")); i >= 0 {
		f := strings.Fields(string(status[i+len("VmHWM:"):]))
		if len(f) > 0 {
			if kib, err := strconv.ParseInt(f[0], 10, 64); err == nil && kib > peaks[pid] {
				peaks[pid] = kib
			}
		}
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, k := range strings.Fields(string(kids)) {
			if child, err := strconv.Atoi(k); err == nil {
				treePeaks(child, peaks)
			}
		}
	}
}
