package merge

import "math"

// maxAssignment solves the linear assignment problem: the permutation p of
// 0..n-1 that maximises sum_i score[i][p[i]], with the Hungarian method
// (shortest augmenting paths with potentials, O(n^3)). Ties go to the
// lower column, so the identity wins among equals.
func maxAssignment(score [][]float64) []int {
	n := len(score)
	if n == 0 {
		return nil
	}
	// Minimise cost = -score over rows 1..n and columns 1..n (0 is the
	// virtual start of each augmenting path).
	u, v := make([]float64, n+1), make([]float64, n+1)
	rowOf := make([]int, n+1) // rowOf[j]: row matched to column j
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		rowOf[0] = i
		j0 := 0
		for j := range minv {
			minv[j], used[j] = math.Inf(1), false
		}
		for {
			used[j0] = true
			i0, delta, j1 := rowOf[j0], math.Inf(1), 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				cur := -score[i0-1][j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[rowOf[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if rowOf[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			rowOf[j0] = rowOf[j1]
			j0 = j1
		}
	}
	p := make([]int, n)
	for j := 1; j <= n; j++ {
		p[rowOf[j]-1] = j - 1
	}
	return p
}

// assignmentValue is sum_i score[i][p[i]].
func assignmentValue(score [][]float64, p []int) float64 {
	s := 0.0
	for i, j := range p {
		s += score[i][j]
	}
	return s
}
