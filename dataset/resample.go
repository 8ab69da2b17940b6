package dataset

import (
	"fmt"
	"math"
)

// Resampling as PIL's Image.resize does it (libImaging/Resample.c), so that
// images resized here match PIL-based pipelines (torchvision, timm, Hugging
// Face) to the byte: a separable, antialiased convolution, horizontal pass
// then vertical, whose filter support is widened by the scale factor when
// downscaling; each output pixel's coefficients are computed in float64,
// normalised to sum 1 and converted to 22-bit fixed point; every pass rounds
// to uint8 (PIL stores the horizontal pass in an 8-bit image too).

// resampleFilter is one of PIL's filters: a kernel and its support at scale 1.
type resampleFilter struct {
	name    string
	support float64
	kernel  func(x float64) float64
}

// bilinearFilter is PIL's BILINEAR: the triangle filter, support 1.
var bilinearFilter = &resampleFilter{name: "bilinear", support: 1, kernel: func(x float64) float64 {
	x = math.Abs(x)
	if x < 1 {
		return 1 - x
	}
	return 0
}}

// bicubicFilter is PIL's BICUBIC: Keys' cubic with a = -0.5, support 2.
var bicubicFilter = &resampleFilter{name: "bicubic", support: 2, kernel: func(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	if x < 1 {
		return ((a+2)*x-(a+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}}

// filterNamed returns the filter of a Preprocess.Interpolation.
func filterNamed(name string) (*resampleFilter, error) {
	switch name {
	case "bilinear":
		return bilinearFilter, nil
	case "bicubic":
		return bicubicFilter, nil
	}
	return nil, fmt.Errorf("dataset: unknown interpolation %q: want bilinear or bicubic", name)
}

// precisionBits is PIL's PRECISION_BITS: coefficients are fixed point with
// this many fraction bits, and sums of 8-bit values times coefficients fit
// an int32.
const precisionBits = 32 - 8 - 2

// resampleCoeffs holds, for each output position of a window, the first
// input position it reads (start) and its fixed-point weights over the
// following len(weights) inputs (weights[o*ksize : o*ksize+n[o]]).
type resampleCoeffs struct {
	ksize  int
	start  []int
	n      []int
	weight []int32
}

// computeCoeffs is PIL's precompute_coeffs and normalize_coeffs_8bpc for a
// line of inSize inputs resized to outSize outputs, for the outputs o0..o1-1
// only (each output depends only on its own position, so a window of the
// output is computed exactly as PIL computes the whole and crops it).
func computeCoeffs(inSize, outSize, o0, o1 int, f *resampleFilter) resampleCoeffs {
	scale := float64(inSize) / float64(outSize)
	filterScale := max(scale, 1)
	support := f.support * filterScale
	ksize := int(math.Ceil(support))*2 + 1
	n := o1 - o0
	c := resampleCoeffs{ksize: ksize, start: make([]int, n), n: make([]int, n), weight: make([]int32, n*ksize)}
	w := make([]float64, ksize)
	ss := 1 / filterScale
	for o := o0; o < o1; o++ {
		center := (float64(o) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		var total float64
		for x := 0; x < xmax; x++ {
			w[x] = f.kernel((float64(x+xmin) - center + 0.5) * ss)
			total += w[x]
		}
		k := c.weight[(o-o0)*ksize : (o-o0+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if total != 0 {
				v /= total
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		c.start[o-o0], c.n[o-o0] = xmin, max(xmax, 0)
	}
	return c
}

// clip8 is PIL's clip8: a fixed-point sum rounded (the sum starts at one
// half) and clamped to a byte.
func clip8(v int32) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// resizePlan is a resize of a crop of a plane to outW x outH of which the
// window (wx, wy, ww, wh) is kept: the geometry shared by all channels.
type resizePlan struct {
	cx, cy, cw, ch int // the crop of the source, in source pixels
	wx, wy, ww, wh int // the window of the resized crop that is kept
	h, v           resampleCoeffs
	rows0, rows1   int // the crop rows the vertical pass reads
	acc            []int32
}

// newResizePlan plans resizing the crop (cx, cy, cw, ch) of an image to
// outW x outH with f, keeping the output window (wx, wy, ww, wh), which must
// lie inside outW x outH.
func newResizePlan(cx, cy, cw, ch, outW, outH, wx, wy, ww, wh int, f *resampleFilter) *resizePlan {
	p := &resizePlan{cx: cx, cy: cy, cw: cw, ch: ch, wx: wx, wy: wy, ww: ww, wh: wh}
	p.h = computeCoeffs(cw, outW, wx, wx+ww, f)
	p.v = computeCoeffs(ch, outH, wy, wy+wh, f)
	p.rows0, p.rows1 = ch, 0
	for o := range p.v.start {
		p.rows0 = min(p.rows0, p.v.start[o])
		p.rows1 = max(p.rows1, p.v.start[o]+p.v.n[o])
	}
	if p.rows1 < p.rows0 {
		p.rows0, p.rows1 = 0, 0
	}
	return p
}

// tmpSize is the scratch resize needs: the horizontal pass's rows.
func (p *resizePlan) tmpSize() int { return (p.rows1 - p.rows0) * p.ww }

// resize writes the planned window (ww x wh bytes) of one plane src of
// stride bytes per row into dst, using tmp (tmpSize bytes) for the
// horizontal pass.
func (p *resizePlan) resize(dst, src []uint8, stride int, tmp []uint8) {
	// Horizontal pass over the crop rows the vertical pass needs.
	for y := p.rows0; y < p.rows1; y++ {
		row := src[(p.cy+y)*stride+p.cx : (p.cy+y)*stride+p.cx+p.cw]
		out := tmp[(y-p.rows0)*p.ww : (y-p.rows0+1)*p.ww]
		for x := range out {
			n := p.h.n[x]
			in := row[p.h.start[x] : p.h.start[x]+n]
			k := p.h.weight[x*p.h.ksize : x*p.h.ksize+n]
			sum := int32(1 << (precisionBits - 1))
			for i, v := range in {
				sum += int32(v) * k[i]
			}
			out[x] = clip8(sum)
		}
	}
	// Vertical pass, a row at a time: the sums of each output row are
	// accumulated over the input rows it reads, in order.
	ww := p.ww
	if cap(p.acc) < ww {
		p.acc = make([]int32, ww)
	}
	acc := p.acc[:ww]
	for y := 0; y < p.wh; y++ {
		for x := range acc {
			acc[x] = 1 << (precisionBits - 1)
		}
		n := p.v.n[y]
		for i, kv := range p.v.weight[y*p.v.ksize : y*p.v.ksize+n] {
			r := p.v.start[y] - p.rows0 + i
			row := tmp[r*ww : (r+1)*ww]
			for x, v := range row {
				acc[x] += int32(v) * kv
			}
		}
		out := dst[y*ww : (y+1)*ww]
		for x, v := range acc {
			out[x] = clip8(v)
		}
	}
}

// resizePlane resizes one plane of bytes (w x h, row-major) to outW x outH
// as PIL's Image.resize((outW, outH), filter) does for an "L" image;
// interpolation is "bilinear" or "bicubic" (the tests compare it with PIL).
func resizePlane(src []uint8, w, h, outW, outH int, interpolation string) ([]uint8, error) {
	f, err := filterNamed(interpolation)
	if err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || outW <= 0 || outH <= 0 || len(src) != w*h {
		return nil, fmt.Errorf("dataset: resizePlane: %d bytes for %dx%d to %dx%d", len(src), w, h, outW, outH)
	}
	p := newResizePlan(0, 0, w, h, outW, outH, 0, 0, outW, outH, f)
	dst := make([]uint8, outW*outH)
	p.resize(dst, src, w, make([]uint8, p.tmpSize()))
	return dst, nil
}
