package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// PCA projects the rows of x [n, d] onto its first k principal components.
// It returns the projections [n, k], the components as the columns of
// [d, k], and the fraction of the total variance each explains. A
// component's sign is fixed so that its largest entry is positive, so the
// result does not depend on the solver's choice.
func PCA(x mat.Matrix, k int) (proj, components *mat.Dense, explained []float64, err error) {
	n, d := x.Dims()
	if k <= 0 || k > d || n < 2 {
		return nil, nil, nil, fmt.Errorf("analysis: PCA of %d x %d data to %d components", n, d, k)
	}
	var pc stat.PC
	if !pc.PrincipalComponents(x, nil) {
		return nil, nil, nil, fmt.Errorf("analysis: PCA of %d x %d data did not converge", n, d)
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	vars := pc.VarsTo(nil)
	var total float64
	for _, v := range vars {
		total += v
	}
	components = mat.NewDense(d, k, nil)
	explained = make([]float64, k)
	for c := 0; c < k; c++ {
		largest := 0
		for j := 0; j < d; j++ {
			if math.Abs(vecs.At(j, c)) > math.Abs(vecs.At(largest, c)) {
				largest = j
			}
		}
		sign := 1.0
		if vecs.At(largest, c) < 0 {
			sign = -1
		}
		for j := 0; j < d; j++ {
			components.Set(j, c, sign*vecs.At(j, c))
		}
		if total > 0 {
			explained[c] = vars[c] / total
		}
	}
	xc := centred(x)
	proj = mat.NewDense(n, k, nil)
	proj.Mul(xc, components)
	return proj, components, explained, nil
}

// Point is one block output in the PCA plane and the slot it was made in.
type Point struct {
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	Slot int     `json:"slot"`
}

// BlockPCA is the 2-D PCA of one block's outputs at all its slots.
type BlockPCA struct {
	Block int `json:"block"`
	// Explained is the fraction of variance of the first two components.
	Explained Vector `json:"explained"`
	// SlotShare is the part of the variance in the plane that lies between
	// the slot means (η²): 0 when the slot does not move the outputs, 1 when
	// the outputs of one slot coincide.
	SlotShare float64 `json:"slot_share"`
	Points    []Point `json:"points"`
}

// blockPCA fits the plane to the outputs of block b on the first images of
// one order per slot, so every slot contributes the same number of points.
func blockPCA(sw *sweep, b, images int) (*BlockPCA, error) {
	D := sw.dim
	images = min(images, sw.n)
	var rows []float64
	var slots []int
	for s := 0; s < sw.depth; s++ {
		for k := 0; k < sw.random; k++ {
			if sw.plans[k][s] != b {
				continue
			}
			for i := 0; i < images; i++ {
				for _, v := range sw.feats[k][s][i*D : (i+1)*D] {
					rows = append(rows, float64(v))
				}
				slots = append(slots, s)
			}
			break
		}
	}
	if len(slots) < 2 {
		return nil, nil // the block ran in no order
	}
	proj, _, explained, err := PCA(mat.NewDense(len(slots), D, rows), 2)
	if err != nil {
		return nil, err
	}
	res := &BlockPCA{Block: b, Explained: explained}
	for i, s := range slots {
		res.Points = append(res.Points, Point{X: proj.At(i, 0), Y: proj.At(i, 1), Slot: s})
	}
	res.SlotShare = slotShare(res.Points, sw.depth)
	return res, nil
}

// slotShare is the between-slot sum of squares over the total one, in 2-D.
func slotShare(pts []Point, slots int) float64 {
	var mx, my float64
	for _, p := range pts {
		mx += p.X
		my += p.Y
	}
	mx /= float64(len(pts))
	my /= float64(len(pts))
	sx, sy, cnt := make([]float64, slots), make([]float64, slots), make([]float64, slots)
	var total float64
	for _, p := range pts {
		sx[p.Slot] += p.X
		sy[p.Slot] += p.Y
		cnt[p.Slot]++
		total += (p.X-mx)*(p.X-mx) + (p.Y-my)*(p.Y-my)
	}
	var between float64
	for s := range cnt {
		if cnt[s] > 0 {
			dx, dy := sx[s]/cnt[s]-mx, sy[s]/cnt[s]-my
			between += cnt[s] * (dx*dx + dy*dy)
		}
	}
	if total == 0 {
		return 0
	}
	return between / total
}
