package swarm

import (
	"fmt"
	"math/rand/v2"

	"github.com/frankenvit/frankenvit/trainer"
)

// Route is how the router picks each batch's next block.
type Route struct {
	Name string
	// Plans: fixed plans, batch b runs Plans[b % len(Plans)] (eval's orders;
	// random:K cycles through eval's K permutations for the same seed).
	Plans [][]int
	// PerBatch and PerSample draw a new random permutation for every batch
	// or every image (each image is then its own batch).
	PerBatch, PerSample bool
	// Arrival runs next whichever remaining block's worker answers a probe
	// first: the order in which workers are free.
	Arrival bool
}

// Route names accepted besides eval's orders.
const (
	RouteArrival     = "arrival"
	RouteRandomBatch = "random-batch"
	RouteRandomImage = "random-sample"
)

// ParseRoute reads --order for a model of depth blocks: any order eval
// takes (sequential, reversed, random[:K], block indices), random-batch,
// random-sample or arrival.
func ParseRoute(s string, depth int, seed uint64) (Route, error) {
	switch s {
	case RouteArrival:
		return Route{Name: s, Arrival: true}, nil
	case RouteRandomBatch:
		return Route{Name: s, PerBatch: true}, nil
	case RouteRandomImage:
		return Route{Name: s, PerSample: true}, nil
	}
	o, err := trainer.ParseOrder(s)
	if err != nil {
		return Route{}, fmt.Errorf("%v, %s, %s or %s", err, RouteRandomBatch, RouteRandomImage, RouteArrival)
	}
	for _, k := range o.Indices {
		if k >= depth {
			return Route{}, fmt.Errorf("block %d does not exist: the model has blocks 0..%d", k, depth-1)
		}
	}
	return Route{Name: o.String(), Plans: o.Plans(depth, seed)}, nil
}

// planner hands out the plans of one run's batches.
type planner struct {
	route Route
	depth int
	rng   *rand.Rand
}

func newPlanner(r Route, depth int, seed uint64) *planner {
	return &planner{route: r, depth: depth, rng: rand.New(rand.NewPCG(seed, 0x5a4d))}
}

// plan is batch b's plan, nil for arrival (decided as it runs). Batches ask
// in order, so random plans follow the seed whatever the timing.
func (p *planner) plan(b int) []int {
	switch {
	case p.route.Arrival:
		return nil
	case p.route.PerBatch || p.route.PerSample:
		return p.rng.Perm(p.depth)
	}
	return p.route.Plans[b%len(p.route.Plans)]
}
