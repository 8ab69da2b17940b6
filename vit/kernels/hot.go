package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The parallel kernels hand their chunks to helper goroutines that stay
// awake for a while after their last task, and the goroutine that waits for
// a fork helps run queued tasks instead of sleeping. On the 2-core VM a `go`
// statement whose goroutine lands on an idle core starts 87-160 µs later
// (the time the host takes to wake an idle vCPU), three times per training
// step of the default model; a helper that is polling takes a task in well
// under a microsecond. Which goroutine runs a task never changes a result:
// every fork splits its work by the task index alone.

// hotSpin is how long an idle helper polls for a task before it parks, and
// joinSpin how long a waiting goroutine polls before it blocks. A training
// step's serial stretch (the gradient norm: ~0.3 ms on the default model)
// fits in hotSpin; joinSpin covers a shard waiting for the other.
const (
	hotSpin  = 2 * time.Millisecond
	joinSpin = 5 * time.Millisecond
)

var hot struct {
	mu       sync.Mutex
	queue    []func()
	parked   []chan struct{} // one per parked helper
	helpers  int             // helpers alive (polling, running or parked)
	spinning atomic.Int32    // helpers polling the queue now
	queued   atomic.Int32    // len(queue), read without the lock
}

// push queues fn and makes sure a helper will see it: one that is polling,
// else a parked one woken, else a new one (up to GOMAXPROCS-1 helpers; the
// forking goroutine runs what no helper takes).
func push(fn func()) {
	hot.mu.Lock()
	hot.queue = append(hot.queue, fn)
	hot.queued.Store(int32(len(hot.queue)))
	var wake chan struct{}
	spawn := false
	if hot.spinning.Load() < int32(len(hot.queue)) {
		if n := len(hot.parked); n > 0 {
			wake = hot.parked[n-1]
			hot.parked = hot.parked[:n-1]
			hot.spinning.Add(1)
		} else if hot.helpers < runtime.GOMAXPROCS(0)-1 {
			hot.helpers++
			hot.spinning.Add(1)
			spawn = true
		}
	}
	hot.mu.Unlock()
	if wake != nil {
		wake <- struct{}{}
	}
	if spawn {
		go helperLoop()
	}
}

// pop takes the oldest queued task, or nil.
func pop() func() {
	if hot.queued.Load() == 0 {
		return nil
	}
	hot.mu.Lock()
	defer hot.mu.Unlock()
	if len(hot.queue) == 0 {
		return nil
	}
	fn := hot.queue[0]
	hot.queue[0] = nil
	hot.queue = hot.queue[1:]
	hot.queued.Store(int32(len(hot.queue)))
	return fn
}

// helperLoop runs queued tasks; idle for hotSpin, it parks until push
// wakes it. It is counted in hot.spinning while it polls (not while it runs
// a task, so that a push meanwhile wakes another helper).
func helperLoop() {
	wake := make(chan struct{}, 1)
	for {
		idleSince := time.Now()
		for {
			if fn := pop(); fn != nil {
				hot.spinning.Add(-1)
				fn()
				hot.spinning.Add(1)
				idleSince = time.Now()
				continue
			}
			if time.Since(idleSince) > hotSpin {
				break
			}
			pause()
		}
		hot.mu.Lock()
		if len(hot.queue) > 0 { // pushed after the last poll
			hot.mu.Unlock()
			continue
		}
		hot.spinning.Add(-1)
		hot.parked = append(hot.parked, wake)
		hot.mu.Unlock()
		<-wake // push counted this helper as spinning again
	}
}

// fork runs fn(0) .. fn(n-1) concurrently, fn(0) on the calling goroutine,
// and returns when all have returned. The caller runs queued tasks while it
// waits. fn must recover its own panics (gopanic.First).
func fork(n int, fn func(i int)) {

	if n <= 1 {
		if n == 1 {
			fn(0)
		}
		return
	}
	j := newJoin(n - 1)
	for i := 1; i < n; i++ {
		push(func() { defer j.done(); fn(i) })
	}
	fn(0)
	j.wait()
}

// join counts a fork's outstanding tasks.
type join struct {
	pending atomic.Int32
	closed  chan struct{} // closed by the task that brings pending to 0
}

func newJoin(n int) *join {
	j := &join{closed: make(chan struct{})}
	j.pending.Store(int32(n))
	return j
}

func (j *join) done() {
	if j.pending.Add(-1) == 0 {
		close(j.closed)
	}
}

// wait returns once every task is done, running queued tasks (its own or
// others') meanwhile; after joinSpin without one to run it blocks.
func (j *join) wait() {
	idleSince := time.Now()
	for j.pending.Load() > 0 {
		if fn := pop(); fn != nil {
			fn()
			idleSince = time.Now()
			continue
		}
		if time.Since(idleSince) > joinSpin {
			<-j.closed
			return
		}
		pause()
	}
}

// pause waits a moment for a task to be queued, then yields the core to any
// other goroutine that is ready to run.
func pause() {
	for i := 0; i < 256 && hot.queued.Load() == 0; i++ {
	}
	runtime.Gosched()
}
