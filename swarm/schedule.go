package swarm

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Event is something done to a worker during a run, at a point of its
// progress (the share of images answered), so that a schedule is the same
// for every run with its seed.
type Event struct {
	At     float64       `json:"at"`   // fraction of the images answered when it happens
	Kind   string        `json:"kind"` // kill, slow or restart
	Worker int           `json:"worker"`
	Slow   time.Duration `json:"slow_ns,omitempty"` // slow: the time added to each computation
	Time   float64       `json:"time_s"`            // seconds into the run when it happened; -1 if it never did
}

func (e Event) String() string {
	if e.Kind == "slow" {
		return fmt.Sprintf("slow w%d by %v", e.Worker, e.Slow)
	}
	return fmt.Sprintf("%s w%d", e.Kind, e.Worker)
}

// Faults asks for a schedule: Fail workers killed, Slow others slowed by
// SlowBy, and the killed ones restarted when Restart is set.
type Faults struct {
	Fail, Slow int
	SlowBy     time.Duration
	Restart    bool
	Seed       uint64
}

// Schedule draws the events for workers block workers: the workers hit are
// drawn from the seed, kills between 25% and 50% of the run, slowdowns
// between 10% and 40%, restarts 25% of the run after their kill. Events are
// in the order they happen.
func (f Faults) Schedule(workers int) ([]Event, error) {
	switch {
	case f.Fail < 0 || f.Slow < 0:
		return nil, fmt.Errorf("--fail and --slow must not be negative")
	case f.Fail+f.Slow > workers:
		return nil, fmt.Errorf("--fail %d and --slow %d hit %d workers; there are %d", f.Fail, f.Slow, f.Fail+f.Slow, workers)
	case f.Slow > 0 && f.SlowBy <= 0:
		return nil, fmt.Errorf("--slow-by must be positive, got %v", f.SlowBy)
	}
	rng := rand.New(rand.NewPCG(f.Seed, 0xfa17))
	hit := rng.Perm(workers)
	var ev []Event
	for i := 0; i < f.Fail; i++ {
		at := 0.25 + 0.25*rng.Float64()
		ev = append(ev, Event{At: at, Kind: "kill", Worker: hit[i], Time: -1})
		if f.Restart {
			ev = append(ev, Event{At: at + 0.25, Kind: "restart", Worker: hit[i], Time: -1})
		}
	}
	for i := f.Fail; i < f.Fail+f.Slow; i++ {
		ev = append(ev, Event{At: 0.1 + 0.3*rng.Float64(), Kind: "slow", Worker: hit[i], Slow: f.SlowBy, Time: -1})
	}
	slices.SortStableFunc(ev, func(a, b Event) int { return cmp.Compare(a.At, b.At) })
	return ev, nil
}
