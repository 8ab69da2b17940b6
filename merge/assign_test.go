package merge

import (
	"math"
	"math/rand/v2"
	"testing"
)

// permutations calls f with every permutation of 0..n-1.
func permutations(n int, f func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			f(p)
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
}

func TestMaxAssignmentAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 7; n++ {
		for trial := 0; trial < 20; trial++ {
			score := make([][]float64, n)
			for i := range score {
				score[i] = make([]float64, n)
				for j := range score[i] {
					score[i][j] = rng.NormFloat64()
				}
			}
			best := math.Inf(-1)
			permutations(n, func(p []int) { best = math.Max(best, assignmentValue(score, p)) })
			p := maxAssignment(score)
			seen := map[int]bool{}
			for _, j := range p {
				seen[j] = true
			}
			if len(seen) != n {
				t.Fatalf("n=%d: %v is not a permutation", n, p)
			}
			if got := assignmentValue(score, p); math.Abs(got-best) > 1e-9 {
				t.Fatalf("n=%d: value %v, the best is %v", n, got, best)
			}
		}
	}
	// A planted permutation on a dominant diagonal is found exactly.
	n := 50
	planted := rng.Perm(n)
	score := make([][]float64, n)
	for i := range score {
		score[i] = make([]float64, n)
		for j := range score[i] {
			score[i][j] = rng.Float64()
		}
		score[i][planted[i]] = 10
	}
	for i, j := range maxAssignment(score) {
		if j != planted[i] {
			t.Fatalf("row %d got column %d, planted %d", i, j, planted[i])
		}
	}
}
