package vit

import (
	"fmt"
	"math"
)

// ResamplePosEmbed resamples the grid part of a position embedding
// [prefix + oldH*oldW, dim] (prefix tokens, e.g. the class token, first and
// kept as they are) to a newH x newW grid by bicubic interpolation exactly
// as torch.nn.functional.interpolate(mode="bicubic", align_corners=False)
// computes it (Keys' kernel with a = -0.75, source index
// (dst+0.5)*in/out-0.5, borders clamped), so a checkpoint fine-tuned at
// another image or patch size starts from the position embedding timm would
// give it. Without antialiasing: shrinking a grid equals torch's with
// antialias=False (timm passes antialias=True, which differs only when a
// side shrinks).
func ResamplePosEmbed(pos []float32, prefix, oldH, oldW, newH, newW, dim int) ([]float32, error) {
	switch {
	case prefix < 0 || oldH <= 0 || oldW <= 0 || newH <= 0 || newW <= 0 || dim <= 0:
		return nil, fmt.Errorf("resample position embedding: bad sizes (prefix %d, %dx%d -> %dx%d, dim %d)", prefix, oldH, oldW, newH, newW, dim)
	case len(pos) != (prefix+oldH*oldW)*dim:
		return nil, fmt.Errorf("resample position embedding: %d values, want (%d + %dx%d) x %d = %d", len(pos), prefix, oldH, oldW, dim, (prefix+oldH*oldW)*dim)
	}
	out := make([]float32, (prefix+newH*newW)*dim)
	copy(out, pos[:prefix*dim])
	grid := pos[prefix*dim:]
	ys, wys := bicubicTaps(oldH, newH)
	xs, wxs := bicubicTaps(oldW, newW)
	acc := make([]float64, dim)
	for oy := 0; oy < newH; oy++ {
		for ox := 0; ox < newW; ox++ {
			clear(acc)
			for i := 0; i < 4; i++ {
				for j := 0; j < 4; j++ {
					w := wys[oy][i] * wxs[ox][j]
					src := grid[(ys[oy][i]*oldW+xs[ox][j])*dim:]
					for d := range acc {
						acc[d] += w * float64(src[d])
					}
				}
			}
			dst := out[(prefix+oy*newW+ox)*dim:]
			for d, v := range acc {
				dst[d] = float32(v)
			}
		}
	}
	return out, nil
}

// bicubicTaps gives, for every output position along one side, the four
// clamped input indices and their weights, as torch's upsample_bicubic2d.
func bicubicTaps(in, out int) (idx [][4]int, w [][4]float64) {
	const a = -0.75
	near := func(x float64) float64 { return ((a+2)*x-(a+3))*x*x + 1 }  // |x| <= 1
	far := func(x float64) float64 { return ((a*x-5*a)*x+8*a)*x - 4*a } // 1 < |x| < 2
	scale := float64(in) / float64(out)
	idx, w = make([][4]int, out), make([][4]float64, out)
	for o := 0; o < out; o++ {
		src := scale*(float64(o)+0.5) - 0.5
		x0 := math.Floor(src)
		t := src - x0
		w[o] = [4]float64{far(t + 1), near(t), near(1 - t), far(2 - t)}
		for k := 0; k < 4; k++ {
			idx[o][k] = min(max(int(x0)-1+k, 0), in-1)
		}
	}
	return idx, w
}
