package speed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Measurer measures the frankenvit row of one model. A measurer that runs a
// child process kills it after timeout (0: no limit) and then fails with
// one line; one that measures in this process cannot be stopped and ignores
// it.
type Measurer func(run SpeedRun, timeout time.Duration) (Measurement, error)

// ChildFlag is the hidden flag of `frankenvit bench speed` that makes the
// process measure one SpeedRun (given as JSON) and print the Measurement as
// JSON, for ExecMeasurer.
const ChildFlag = "child"

// ExecMeasurer measures each model in a fresh child process, `exe args...
// --child RUN-JSON`, so that every row's peak resident set (VmHWM) is that
// model's own. The child must print one Measurement as JSON on stdout. A
// child that runs past its timeout is killed with its process group; a
// failing child's error is one line: "frankenvit child (default): timed out
// after 2m0s", or its exit status and its stderr's panic or last line.
func ExecMeasurer(exe string, args ...string) Measurer {
	return func(run SpeedRun, timeout time.Duration) (Measurement, error) {
		spec, err := json.Marshal(run)
		if err != nil {
			return Measurement{}, err
		}
		name := fmt.Sprintf("frankenvit child (%s)", run.Model.Name)
		out, err := runChild(name, timeout, exe, append(append([]string(nil), args...), "--"+ChildFlag, string(spec)), nil)
		if err != nil {
			return Measurement{}, err
		}
		var m Measurement
		if err := json.Unmarshal(bytes.TrimSpace(out), &m); err != nil {
			return Measurement{}, &ChildError{Child: name, Reason: "printed no measurement: " + oneLine(err.Error())}
		}
		return m, nil
	}
}

// ChildError is the failure of a child process in one line: the child (what
// it measures) and the reason.
type ChildError struct {
	Child  string // e.g. "torch peer (default, openblas, 2 threads)"
	Reason string // "timed out after 1m0s", or "exit status 1: <the child's last stderr line>"
}

func (e *ChildError) Error() string { return e.Child + ": " + e.Reason }

// ErrChildTimeout is wrapped by a ChildError of a child killed at its timeout.
var ErrChildTimeout = errors.New("child process timed out")

// Is makes errors.Is(err, ErrChildTimeout) find a timed-out child.
func (e *ChildError) Is(target error) bool {
	return target == ErrChildTimeout && strings.HasPrefix(e.Reason, "timed out after ")
}

// childWaitDelay is how long a killed or finished child's output pipes may
// stay open (held by a process that escaped its group) before Wait gives up.
const childWaitDelay = 5 * time.Second

// runChild runs path with args (env nil: this process's environment) in a
// process group of its own and returns its stdout. After timeout (0: none)
// the whole group is killed; the child also gets SIGKILL if this process
// dies first (Pdeathsig), so a child never outlives the benchmark. Any
// failure is a *ChildError of one line naming the child.
func runChild(name string, timeout time.Duration, path string, args, env []string) ([]byte, error) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = childWaitDelay
	var stdout bytes.Buffer
	var stderr headTail
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, &ChildError{Child: name, Reason: "timed out after " + timeout.String()}
	}
	reason := oneLine(err.Error())
	if line := stderr.reason(); line != "" {
		reason += ": " + line
	}
	return nil, &ChildError{Child: name, Reason: reason}
}

// headTail keeps the first and the last 32 KiB of a child's stderr: enough
// for the line that says what went wrong, whatever the child prints.
type headTail struct {
	head, tail []byte
	dropped    bool // bytes between head and tail were dropped
}

const headTailMax = 32 << 10

func (h *headTail) Write(p []byte) (int, error) {
	n := len(p)
	if room := headTailMax - len(h.head); room > 0 {
		k := min(room, len(p))
		h.head, p = append(h.head, p[:k]...), p[k:]
	}
	h.tail = append(h.tail, p...)
	if over := len(h.tail) - headTailMax; over > 0 {
		h.tail = h.tail[:copy(h.tail, h.tail[over:])]
		h.dropped = true
	}
	return n, nil
}

// reason picks the line of a child's stderr that says what went wrong: a
// Go runtime's "panic: ..." or "fatal error: ..." line (the goroutine dump
// after it says little), else the last non-empty line (a Python traceback
// ends with the exception).
func (h *headTail) reason() string {
	all := string(h.head)
	if !h.dropped {
		all += string(h.tail)
	}
	for _, line := range strings.Split(all, "\n") {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			return oneLine(line)
		}
	}
	last := strings.TrimSpace(string(h.head) + string(h.tail))
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	return oneLine(last)
}

// oneLine makes s one printable line of at most 240 characters.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 240 {
		s = string(r[:240]) + "…"
	}
	return s
}

// Child time limits. A child is killed when it runs past what its work
// would take at a rate far below any measured one, plus childStartup for
// starting the process (importing torch takes seconds): frankenvit trains
// the speed models at 60-90 GFLOP/s on 2 cores (README), PyTorch with the
// reference BLAS at about 3 GFLOP/s, the slowest configuration measured.
const (
	childStartup    = time.Minute
	floorFrankenvit = 2.0             // GFLOP/s granted to a frankenvit child
	floorPeer       = 0.5             // GFLOP/s granted to a torch peer
	importTimeout   = 2 * time.Minute // `python3 -c "import torch"`
	dpkgTimeout     = 30 * time.Second
)

// atRate is the time work FLOPs take at gflops GFLOP/s.
func atRate(work float64, gflops float64) time.Duration {
	return time.Duration(work / (gflops * 1e9) * float64(time.Second))
}

// runWork is the FLOPs of a whole run: warm-up and timed training steps,
// the evaluation warm-up batch and the evaluation images.
func runWork(run SpeedRun) float64 {
	f := CountFLOPs(run.Model.Config)
	steps := float64(run.Warmup + run.Steps)
	return steps*float64(run.Model.Batch)*float64(f.Train()) + float64(run.EvalImages+run.EvalBatch)*float64(f.Forward())
}

// FrankenvitTimeout is the time limit of the child measuring run:
// childStartup plus the whole run at 2 GFLOP/s, rounded up to a second.
func FrankenvitTimeout(run SpeedRun) time.Duration {
	return (childStartup + atRate(runWork(run), floorFrankenvit)).Round(time.Second) + time.Second
}

// PeerTimeout is the time limit of the torch peer measuring run with
// budget per timed phase (0: none): childStartup plus the lesser of the
// whole run at 0.5 GFLOP/s and what the budget lets the script do. With a
// budget the script stops warming up after budget/4 and training and
// evaluating after budget each, each phase past its cap by at most one
// step or batch (and evaluation warms up on one batch first): 2.25 budgets
// plus two steps and two batches at 0.5 GFLOP/s.
func PeerTimeout(run SpeedRun, budget time.Duration) time.Duration {
	d := atRate(runWork(run), floorPeer)
	if budget > 0 {
		f := CountFLOPs(run.Model.Config)
		over := 2*float64(run.Model.Batch)*float64(f.Train()) + 2*float64(run.EvalBatch)*float64(f.Forward())
		d = min(d, 9*budget/4+atRate(over, floorPeer))
	}
	return (childStartup + d).Round(time.Second) + time.Second
}
