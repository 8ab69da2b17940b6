package trainer

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/vit"
)

// OrderSampler draws the block orders of training batches for a variant.
type OrderSampler struct {
	Variant    vit.Variant
	Depth      int
	PerSample  bool    // every sample of a batch gets its own order (ablation)
	LayerDropP float64 // layerdrop: probability that a block is skipped
}

// Draw returns the block indices for one batch of B samples: one list
// shared by the batch, or B lists when PerSample is set.
func (s OrderSampler) Draw(rng *rand.Rand, B int) [][]int {
	n := 1
	if s.PerSample && s.Variant.Shuffled() {
		n = B
	}
	out := make([][]int, n)
	for i := range out {
		out[i] = s.one(rng)
	}
	return out
}

func (s OrderSampler) one(rng *rand.Rand) []int {
	switch {
	case s.Variant.Shuffled():
		return rng.Perm(s.Depth)
	case s.Variant == vit.LayerDrop:
		kept := make([]int, 0, s.Depth)
		for i := 0; i < s.Depth; i++ {
			if rng.Float64() >= s.LayerDropP {
				kept = append(kept, i)
			}
		}
		return kept
	default:
		return sequential(s.Depth)
	}
}

func sequential(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Order is an evaluation order as given by --order.
type Order struct {
	Kind    string // "sequential", "reversed", "random" or "list"
	K       int    // random: number of permutations
	Indices []int  // list: the blocks to run
}

// DefaultRandomOrders is K for a bare "random".
const DefaultRandomOrders = 20

// MaxRandomOrders bounds random:K: each order is a full evaluation, and a
// mistyped K must be refused before its permutations are drawn (a K in the
// billions would exhaust memory).
const MaxRandomOrders = 100_000

// CheckOrderCount is nil for a number of random orders from 1 to
// MaxRandomOrders; commands check their counts with it before any work.
func CheckOrderCount(k int) error {
	if k < 1 || k > MaxRandomOrders {
		return fmt.Errorf("the number of random orders must be from 1 to %d, got %d", MaxRandomOrders, k)
	}
	return nil
}

// ParseOrder reads sequential | reversed | random[:K] | i,j,k,...
func ParseOrder(s string) (Order, error) {
	switch {
	case s == "sequential" || s == "":
		return Order{Kind: "sequential"}, nil
	case s == "reversed":
		return Order{Kind: "reversed"}, nil
	case s == "random":
		return Order{Kind: "random", K: DefaultRandomOrders}, nil
	case strings.HasPrefix(s, "random:"):
		k, err := strconv.Atoi(strings.TrimPrefix(s, "random:"))
		if err != nil || CheckOrderCount(k) != nil {
			return Order{}, fmt.Errorf("bad order %q: random:K needs a number K from 1 to %d", s, MaxRandomOrders)
		}
		return Order{Kind: "random", K: k}, nil
	}
	idx, err := vit.ParseIndices(s)
	if err != nil {
		return Order{}, fmt.Errorf("bad order %q: want sequential, reversed, random[:K] or block indices like 0,3,1", s)
	}
	return Order{Kind: "list", Indices: idx}, nil
}

func (o Order) String() string {
	switch o.Kind {
	case "random":
		return fmt.Sprintf("random:%d", o.K)
	case "list":
		parts := make([]string, len(o.Indices))
		for i, k := range o.Indices {
			parts[i] = strconv.Itoa(k)
		}
		return strings.Join(parts, ",")
	}
	return o.Kind
}

// Plans resolves the order into block index lists for a model of the given
// depth; random permutations are drawn from seed.
func (o Order) Plans(depth int, seed uint64) [][]int {
	switch o.Kind {
	case "reversed":
		p := sequential(depth)
		for i, j := 0, depth-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
		return [][]int{p}
	case "random":
		rng := rand.New(rand.NewPCG(seed, 0x0de5))
		out := make([][]int, o.K)
		for i := range out {
			out[i] = rng.Perm(depth)
		}
		return out
	case "list":
		return [][]int{append([]int(nil), o.Indices...)}
	}
	return [][]int{sequential(depth)}
}
