// Package relay is the pass-through process of a long `convlog tee`: a
// second process that copies stdin to stdout and sends each read, with its
// time, down a pipe to the tee that logs it.
//
// Why: on a machine with no CPU to spare, tee's garbage collector stops the
// world while its logger's thread of idle priority waits for a turn, and
// that held the agent's output up for up to a second. A process that does
// nothing but copy shares no runtime with the logging, so nothing the
// logging does can hold the output up.
//
// When: tee starts the process once a session has run for 100 ms (a short
// session ends before it would pay for itself), and hands the pass-through
// over (Handover) only when the machine turns out to be busy; on a machine
// with CPUs to spare the extra hop would cost latency, and the process
// waits unused. CONVLOG_HANDOVER=never keeps tee one process, and so does
// a stdin that is not a pipe.
//
// How it ends: with the input, sending an end frame; with tee, which it
// never outlives (the kernel kills it when tee dies); or killed. Then tee
// carries on from the exact byte the process had reached, and says so: the
// process reads stdin straight into memory that tee shares (ring), and the
// kernel's totals of the process's I/O say how much of stdin it took and
// how much of that it wrote out (takeBack). What it took and did not write
// out, tee writes; what it had not yet sent, tee logs.
package relay
