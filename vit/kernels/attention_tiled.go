package kernels

import "math"

// The tiled ("flash") attention forward for inference (no probs): for each
// (batch, head) pair, blocks of attnQB query rows meet blocks of attnKB keys
// with an online softmax (a running max and sum per row; the output
// accumulator is rescaled when the max grows), so no T×T score matrix is
// held, only one attnQB×attnKB tile per goroutine. The results differ from
// the unfused path by float rounding only (the softmax's normalisation is
// applied to the output at the end instead of to the probabilities).

// Tile sizes and the smallest T that takes the tiled path (set by
// measurement on the 2-core EPYC: see BenchmarkAttentionPaths).
var (
	attnQB        = 64
	attnKB        = 64
	attnTiledMinT = 64
)

// attnTiledWorkspace is the scratch of one goroutine of the tiled forward:
// a Kᵀ block (hd×KB), the score tile (QB×KB), the output accumulator (QB×hd),
// the running max and sum (QB each) and rowsGemm's padding scratch.
func attnTiledWorkspace(hd int) int {
	return hd*attnKB + attnQB*attnKB + attnQB*hd + 2*attnQB + 6*(hd+attnKB)
}

func attnTiledPair(out, qkv, ws []float32, pair, T, D, H, hd int, scale float32) {
	b, h := pair/H, pair%H
	ld := 3 * D
	base := b * T * ld
	qo, ko, vo := base+h*hd, base+D+h*hd, base+2*D+h*hd
	QB, KB := attnQB, attnKB
	kt, ws := ws[:hd*KB], ws[hd*KB:]
	s, ws := ws[:QB*KB], ws[QB*KB:]
	o, ws := ws[:QB*hd], ws[QB*hd:]
	mrow, lrow, tmp := ws[:QB], ws[QB:2*QB], ws[2*QB:]
	negInf := float32(math.Inf(-1))
	for q0 := 0; q0 < T; q0 += QB {
		m := min(QB, T-q0)
		for i := range m {
			mrow[i], lrow[i] = negInf, 0
		}
		clear(o[:m*hd])
		for k0 := 0; k0 < T; k0 += KB {
			n := min(KB, T-k0)
			np := (n + 7) &^ 7
			transposeHead(kt, qkv[ko+k0*ld:], n, hd, ld, np)
			rowsGemm(m, np, hd, qkv[qo+q0*ld:], ld, 1, kt, np, s, np, scale, false, tmp)
			if np > n {
				for i := range m {
					for j := n; j < np; j++ {
						s[i*np+j] = negInf
					}
				}
			}
			flashRows(s, np, m, mrow, lrow, o, hd)
			rowsGemm(m, hd, n, s, np, 1, qkv[vo+k0*ld:], ld, o, hd, 1, true, tmp)
		}
		for i := range m {
			inv := 1 / lrow[i]
			dst := out[(b*T+q0+i)*D+h*hd : (b*T+q0+i)*D+h*hd+hd]
			for d, v := range o[i*hd : (i+1)*hd] {
				dst[d] = v * inv
			}
		}
	}
}

// flashRows is the online-softmax step of rows rows of the score tile s
// (row stride np, padding lanes -Inf): see flashRowsAVX2.
func flashRows(s []float32, np, rows int, mrow, lrow, o []float32, hd int) {
	if useSIMD {
		flashRowsSIMD(s, np, rows, mrow, lrow, o, hd)
		return
	}
	flashRowsGo(s, np, rows, mrow, lrow, o, hd)
}

func flashRowsGo(s []float32, np, rows int, mrow, lrow, o []float32, hd int) {
	for r := 0; r < rows; r++ {
		row := s[r*np : (r+1)*np]
		mx := mrow[r]
		for _, v := range row {
			mx = max(mx, v)
		}
		a := expf(mrow[r] - mx)
		var sum float32
		for j, v := range row {
			e := expf(v - mx)
			row[j] = e
			sum += e
		}
		mrow[r], lrow[r] = mx, a*lrow[r]+sum
		if a != 1 {
			for d := range o[r*hd : (r+1)*hd] {
				o[r*hd+d] *= a
			}
		}
	}
}
