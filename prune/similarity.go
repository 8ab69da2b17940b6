package prune

import (
	"fmt"
	"io"
	"math"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// Similarity is what one pass of a split through a plan says about its blocks.
type Similarity struct {
	// Influence[i] is ShortGPT's Block Influence of position i:
	// 1 - cos(input, output) of every token row, averaged over all tokens of
	// all images. An identity block scores 0.
	Influence []float64 `json:"influence"`
	// Angular[l][n-1] is the angular distance arccos(cos)/π between the class
	// token entering position l and the class token n positions later
	// (leaving position l+n-1), averaged over the images; n = 1..len-l.
	Angular [][]float64 `json:"angular"`
	Images  int         `json:"images"`
}

// BestRun is Gromov et al.'s choice for removing k consecutive blocks: the
// start l with the smallest Angular[l][k-1] (the earliest among equals), and
// the distance of every start.
func (s *Similarity) BestRun(k int) (start int, dists []float64) {
	n := len(s.Angular)
	for l := 0; l+k <= n; l++ {
		dists = append(dists, s.Angular[l][k-1])
		if dists[l] < dists[start] {
			start = l
		}
	}
	return start, dists
}

// MeasureSimilarity runs every image of split through plan on m's stem,
// keeping the hidden state before and after every block, and averages the
// block influences and angular distances. Progress goes to log.
func MeasureSimilarity(m *vit.Model, plan vit.Plan, split *dataset.Split, norm dataset.Normalization, log io.Writer) (*Similarity, error) {
	if err := m.Check(plan); err != nil {
		return nil, err
	}
	if split.N == 0 {
		return nil, fmt.Errorf("cannot measure block similarity of %s on an empty split", m.Name)
	}
	n := len(plan)
	T, D := m.Config.Tokens(), m.Config.Dim
	sims := &Similarity{Influence: make([]float64, n), Angular: make([][]float64, n), Images: split.N}
	for l := range sims.Angular {
		sims.Angular[l] = make([]float64, n-l)
	}
	runner := vit.NewRunner(m)
	levels := make([][]float32, n+1)
	size := trainer.EvalBatchFor(m.Config)
	x := make([]float32, size*split.ImageSize())
	idx := make([]int, 0, size)
	tick := trainer.NewCounter(log, "measuring block similarity of "+m.Name+" (batches)", trainer.EvalBatches(split.N, m.Config))
	for start, batch := 0, 1; start < split.N; start, batch = start+size, batch+1 {
		B := min(size, split.N-start)
		idx = idx[:0]
		for i := 0; i < B; i++ {
			idx = append(idx, start+i)
		}
		if err := split.Fill(x, nil, idx, norm, nil, nil); err != nil {
			return nil, err
		}
		for d := range levels {
			if cap(levels[d]) < B*T*D {
				levels[d] = make([]float32, B*T*D)
			}
			levels[d] = levels[d][:B*T*D]
		}
		runner.Embed(levels[0], x, B)
		for i, bl := range plan {
			runner.RunBlock(levels[i+1], levels[i], B, bl, i)
			for row := 0; row < B*T; row++ {
				sims.Influence[i] += 1 - Cosine(levels[i][row*D:(row+1)*D], levels[i+1][row*D:(row+1)*D])
			}
		}
		for img := 0; img < B; img++ {
			cls := img * T * D // the class token is token 0 of each image
			for l := 0; l < n; l++ {
				a := levels[l][cls : cls+D]
				for k := 1; l+k <= n; k++ {
					sims.Angular[l][k-1] += AngularDistance(a, levels[l+k][cls:cls+D])
				}
			}
		}
		tick(batch)
	}
	for i := range sims.Influence {
		sims.Influence[i] /= float64(split.N * T)
	}
	for l := range sims.Angular {
		for k := range sims.Angular[l] {
			sims.Angular[l][k] /= float64(split.N)
		}
	}
	return sims, nil
}

// Cosine is the cosine similarity of two vectors in float64; 1 when both are
// zero (an unchanged zero vector is as similar as it gets).
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 && bb == 0 {
		return 1
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return math.Max(-1, math.Min(1, ab/math.Sqrt(aa*bb)))
}

// AngularDistance is arccos(cos(a, b))/π, in [0, 1].
func AngularDistance(a, b []float32) float64 { return math.Acos(Cosine(a, b)) / math.Pi }
