package kernels

import "math"

// The tiled ("flash") attention forward for inference (no probs): for each
// (batch, head) pair, blocks of attnQB query rows meet blocks of attnKB keys
// with an online softmax (a running max and sum per row; the output
// accumulator is rescaled when the max grows), so no T×T score matrix is
// held, only one attnQB×attnKB tile per goroutine. The results differ from
// the unfused path by float rounding only (the softmax's normalisation is
// applied to the output at the end instead of to the probabilities).

// Tile sizes (attnKB a multiple of 8) and the sequence lengths that take
// the tiled path, set by measurement on the 2-core EPYC (BenchmarkAttentionTiles,
// 1 worker, ms per call; old = unfused):
//
//	T=197 hd=64 B=32:  old 12.7  fused 12.6  tiled 120×64 12.3, 60×64 12.5, 60×128 12.4, 36×64 13.2
//	T=100 hd=64 B=64:  old 7.8   fused 7.4   tiled 120×64 7.2,  60×64 7.6
//	T=50  hd=64 B=256: old 9.7   fused 9.6   tiled 120×64 9.4,  60×64 9.3
//	T=80  hd=16 B=64:  old 2.24  fused 2.10  tiled 120×64 2.37, 60×64 2.44
//
// so the tiled path runs for T > 64 with heads of at least 32 columns; the
// fused one (bit-identical to the old kernel) below that, where the tiled
// one gains nothing (T=50) or loses (hd=16).
var (
	attnQB        = 120
	attnKB        = 64
	attnTiledMinT = 64
	attnTiledMinD = 32
)

// attnTiledWorkspace is the scratch of one goroutine of the tiled forward:
// a Kᵀ block (hd×KB), the output accumulator (QB×hd, QB rounded up to 6),
// the running max and sum, and either (AVX2 tile kernel, 6 rows at a time)
// 6 rows of scores with their factors and a padded copy of the last rows'
// queries and outputs, or (rowsGemm) the QB×KB score tile, the query
// block and rowsGemm's padding scratch.
func attnTiledWorkspace(hd int) int {
	qb := (attnQB + 5) / 6 * 6
	n := hd*attnKB + qb*hd + 2*qb
	if flashTileOK(hd) {
		return n + 6*attnKB + 12 + 2*6*hd
	}
	return n + qb*attnKB + qb*hd + 6*(hd+attnKB)
}

func attnTiledPair(out, qkv, ws []float32, pair, T, D, H, hd int, scale float32) {
	b, h := pair/H, pair%H
	ld := 3 * D
	base := b * T * ld
	qo, ko, vo := base+h*hd, base+D+h*hd, base+2*D+h*hd
	oo := b*T*D + h*hd
	QB, KB := attnQB, attnKB
	qb := (QB + 5) / 6 * 6
	kt, ws := ws[:hd*KB], ws[hd*KB:]
	o, ws := ws[:qb*hd], ws[qb*hd:]
	mrow, lrow, ws := ws[:qb], ws[qb:2*qb], ws[2*qb:]
	negInf := float32(math.Inf(-1))
	if flashTileOK(hd) {
		s, ws := ws[:6*KB+12], ws[6*KB+12:]
		qpad, opad := ws[:6*hd], ws[6*hd:12*hd]
		for q0 := 0; q0 < T; q0 += QB {
			m := min(QB, T-q0)
			full := m / 6 * 6
			rem := m - full
			mr := full
			if rem > 0 {
				// The last rows go through a copy padded to 6 rows (zero
				// queries, whose results are dropped).
				mr += 6
				for i := range 6 {
					if i < rem {
						r := qo + (q0+full+i)*ld
						copy(qpad[i*hd:(i+1)*hd], qkv[r:r+hd])
					} else {
						clear(qpad[i*hd : (i+1)*hd])
					}
				}
			}
			for i := range mr {
				mrow[i], lrow[i] = negInf, 0
			}
			clear(o[:mr*hd])
			for k0 := 0; k0 < T; k0 += KB {
				n := min(KB, T-k0)
				np := (n + 7) &^ 7
				last := k0+KB >= T
				transposeHead(kt, qkv[ko+k0*ld:], n, hd, ld, np)
				v := qkv[vo+k0*ld:]
				if full > 0 {
					flashTileSIMD(full, n, np, hd, qkv[qo+q0*ld:], ld, kt, v, ld, o, mrow, lrow, s, scale, out[oo+q0*D:], D, last)
				}
				if rem > 0 {
					flashTileSIMD(6, n, np, hd, qpad, hd, kt, v, ld, o[full*hd:], mrow[full:], lrow[full:], s, scale, opad, hd, last)
				}
			}
			for i := range rem {
				r := oo + (q0+full+i)*D
				copy(out[r:r+hd], opad[i*hd:(i+1)*hd])
			}
		}
		return
	}
	s, ws := ws[:qb*KB], ws[qb*KB:]
	qp, tmp := ws[:qb*hd], ws[qb*hd:]
	for q0 := 0; q0 < T; q0 += QB {
		m := min(QB, T-q0)
		for i := range m {
			copy(qp[i*hd:(i+1)*hd], qkv[qo+(q0+i)*ld:qo+(q0+i)*ld+hd])
			mrow[i], lrow[i] = negInf, 0
		}
		clear(o[:m*hd])
		for k0 := 0; k0 < T; k0 += KB {
			n := min(KB, T-k0)
			np := (n + 7) &^ 7
			transposeHead(kt, qkv[ko+k0*ld:], n, hd, ld, np)
			rowsGemm(m, np, hd, qp, hd, 1, kt, np, s, np, scale, false, tmp)
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
			dst := out[oo+(q0+i)*D : oo+(q0+i)*D+hd]
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
