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

// Point is one block output in a PCA plane and the slot it was made in.
type Point struct {
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	Slot int     `json:"slot"`
}

// Plane is a 2-D PCA of block outputs.
type Plane struct {
	// Explained is the fraction of variance of the first two components.
	Explained Vector `json:"explained"`
	// SlotShare is the part of the variance in the plane that lies between
	// the slot means (η²): 0 when the slot does not move the outputs, 1 when
	// the outputs of one slot coincide.
	SlotShare float64 `json:"slot_share"`
	Points    []Point `json:"points"`
}

// BlockPCA is the 2-D PCA of one block's outputs at all its slots, on the
// same images at every slot.
type BlockPCA struct {
	Block int `json:"block"`
	// Outputs is the PCA of the outputs themselves: mostly the image.
	Outputs Plane `json:"outputs"`
	// Centred is the PCA after subtracting from each output the mean of the
	// same image's outputs of this block over all slots: what the slot alone
	// changes.
	Centred Plane `json:"centred"`
}

// blockPCA fits the planes to the outputs of block b on the first images of
// one order per slot, so every slot contributes the same images. It returns
// nil when the block does not run in every slot (fewer orders than blocks).
func blockPCA(sw *sweep, b, images int) (*BlockPCA, error) {
	L, D := sw.depth, sw.dim
	images = min(images, sw.n)
	raw := make([]float64, L*images*D)
	slots := make([]int, L*images)
	for s := 0; s < L; s++ {
		k := -1
		for o := 0; o < sw.random && k < 0; o++ {
			if sw.plans[o][s] == b {
				k = o
			}
		}
		if k < 0 {
			return nil, nil
		}
		for i := 0; i < images; i++ {
			row := (s*images + i) * D
			for j, v := range sw.feats[k][s][i*D : (i+1)*D] {
				raw[row+j] = float64(v)
			}
			slots[s*images+i] = s
		}
	}
	centred := append([]float64(nil), raw...)
	for i := 0; i < images; i++ {
		for j := 0; j < D; j++ {
			var m float64
			for s := 0; s < L; s++ {
				m += raw[(s*images+i)*D+j]
			}
			m /= float64(L)
			for s := 0; s < L; s++ {
				centred[(s*images+i)*D+j] -= m
			}
		}
	}
	res := &BlockPCA{Block: b}
	var err error
	if res.Outputs, err = plane(mat.NewDense(L*images, D, raw), slots, L); err != nil {
		return nil, err
	}
	if res.Centred, err = plane(mat.NewDense(L*images, D, centred), slots, L); err != nil {
		return nil, err
	}
	return res, nil
}

func plane(x *mat.Dense, slots []int, L int) (Plane, error) {
	proj, _, explained, err := PCA(x, 2)
	if err != nil {
		return Plane{}, err
	}
	p := Plane{Explained: explained}
	for i, s := range slots {
		p.Points = append(p.Points, Point{X: proj.At(i, 0), Y: proj.At(i, 1), Slot: s})
	}
	p.SlotShare = slotShare(p.Points, L)
	return p, nil
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
