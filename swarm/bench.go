package swarm

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/nats-io/nats.go"
)

// Bench runs a whole swarm on one machine: an embedded NATS server, block
// workers and a stem-and-head worker as processes of Exe, and the router,
// while the schedule's faults hit the block workers.
type Bench struct {
	Exe     string   // the frankenvit binary
	Serve   []string // arguments that make Exe a worker before its own: serve --store DIR
	Workers int      // block workers
	Threads int      // kernel goroutines per worker
	Faults  Faults
	Router  Router // Model, Config, Route, Seed, Deadline, Batch, Inflight, EndTries, OnBatch
	Log     io.Writer
}

// BenchResult is a bench run: the router's result and the events as they
// happened.
type BenchResult struct {
	*Result
	Events []Event
}

// Layout is which blocks each of n block workers serves: worker i serves
// blocks i, i+n, i+2n... of a model of depth blocks, or block i%depth (a
// replica, sharing the block's queue) when there are more workers than
// blocks.
func Layout(n, depth int) [][]int {
	out := make([][]int, n)
	for i := range out {
		if n > depth {
			out[i] = []int{i % depth}
			continue
		}
		for k := i; k < depth; k += n {
			out[i] = append(out[i], k)
		}
	}
	return out
}

// Bounds of a bench run: each worker is a process on this machine, and each
// window a row of the report; past them a count is a typo.
const (
	MaxWorkers = 256
	MaxWindows = 1000
)

// Run starts the swarm, answers every image of split and stops the swarm.
func (b *Bench) Run(ctx context.Context, split *dataset.Split, norm dataset.Normalization) (*BenchResult, error) {
	r := b.Router
	if b.Workers < 1 || b.Workers > MaxWorkers {
		return nil, fmt.Errorf("--workers must be from 1 to %d, got %d", MaxWorkers, b.Workers)
	}
	if err := r.Check(split); err != nil {
		return nil, err
	}
	events, err := b.Faults.Schedule(b.Workers)
	if err != nil {
		return nil, err
	}
	srv, err := StartServer("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer srv.Shutdown()
	nc, err := Connect(srv.URL(), "frankenvit router")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	r.Conn = nc
	fleet := b.fleet(srv.URL(), nc)
	defer fleet.StopAll()
	for i := range fleet.Own {
		if err := fleet.Start(i); err != nil {
			return nil, err
		}
	}
	if err := WaitReady(nc, r.Needs(), 2*time.Minute, func() error {
		for i, id := range fleet.IDs {
			if !fleet.Running(i) {
				return fmt.Errorf("worker %s exited before it served (its error is above)", id)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	next := 0
	var fireErr error
	firedAt := make([]time.Time, len(events))
	progress := r.OnBatch
	r.OnBatch = func(answered, total int) {
		for next < len(events) && events[next].At <= float64(answered)/float64(total) {
			firedAt[next] = time.Now()
			if err := b.fire(fleet, events[next]); err != nil && fireErr == nil {
				fireErr = err
			}
			b.logf("swarm: %s (%d of %d images answered)", events[next], answered, total)
			next++
		}
		if progress != nil {
			progress(answered, total)
		}
	}
	res, err := r.Run(ctx, split, norm)
	if err != nil {
		return nil, err
	}
	if fireErr != nil {
		return nil, fireErr
	}
	for i := range next { // on the router's clock, as the batches' times
		events[i].Time = firedAt[i].Sub(res.Start).Seconds()
	}
	return &BenchResult{Result: res, Events: events}, nil
}

func (b *Bench) fire(f *Fleet, e Event) error {
	switch e.Kind {
	case "kill":
		return f.Kill(e.Worker)
	case "restart":
		return f.Start(e.Worker)
	case "slow":
		return f.Slow(e.Worker, e.Slow)
	}
	return fmt.Errorf("unknown event %q", e.Kind)
}

// fleet lays out the workers: w0..w(n-1) serve blocks, "ends" the stem and
// head.
func (b *Bench) fleet(url string, nc *nats.Conn) *Fleet {
	r := b.Router
	f := &Fleet{Exe: b.Exe, Log: b.Log, Conn: nc, Subjects: r.Subjects}
	f.Common = append(append([]string{}, b.Serve...), "--nats", url, "--threads", strconv.Itoa(b.Threads))
	if r.Subjects.Prefix != "" {
		f.Common = append(f.Common, "--prefix", r.Subjects.Prefix)
	}
	for i, blocks := range Layout(b.Workers, r.Config.Depth) {
		id := "w" + strconv.Itoa(i)
		f.IDs = append(f.IDs, id)
		f.Own = append(f.Own, []string{"--id", id, "--blocks", r.Model + ":" + formatBlocks(blocks)})
	}
	f.IDs = append(f.IDs, "ends")
	f.Own = append(f.Own, []string{"--id", "ends", "--ends", r.Model})
	return f
}

func (b *Bench) logf(format string, args ...any) {
	if b.Log != nil {
		fmt.Fprintf(b.Log, format+"\n", args...)
	}
}
