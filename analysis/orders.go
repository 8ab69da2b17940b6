package analysis

import "math/rand/v2"

// BalancedOrders draws k block orders for a model of depth blocks as the rows
// of random Latin squares: within every complete group of depth orders each
// block runs in each slot exactly once, so with k a multiple of depth every
// (block, slot) cell is visited k/depth times, and with fewer orders no cell
// is visited twice before all are visited once. Same seed, same orders.
func BalancedOrders(depth, k int, seed uint64) [][]int {
	rng := rand.New(rand.NewPCG(seed, 0x1a7))
	out := make([][]int, 0, k)
	for len(out) < k {
		// Square (r, s) -> syms[(rows[r] + cols[s]) mod depth] is a Latin
		// square; permuting rows, columns and symbols keeps it one.
		rows, cols, syms := rng.Perm(depth), rng.Perm(depth), rng.Perm(depth)
		for _, r := range rows {
			if len(out) == k {
				break
			}
			order := make([]int, depth)
			for s := range order {
				order[s] = syms[(r+cols[s])%depth]
			}
			out = append(out, order)
		}
	}
	return out
}

// visits counts, for each block and slot, the orders running that block there.
func visits(orders [][]int, depth int) [][]int {
	v := make([][]int, depth)
	for b := range v {
		v[b] = make([]int, depth)
	}
	for _, o := range orders {
		for s, b := range o {
			v[b][s]++
		}
	}
	return v
}
