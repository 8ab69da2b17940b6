// Package kernels holds the hot numeric kernels of frankenvit: GEMM, linear
// layers, LayerNorm, exact GELU, multi-head self-attention, softmax
// cross-entropy and a few vector helpers. The model (package vit) calls them
// on whole batches, in the style of Karpathy's llm.c: every layer is a plain
// pair of forward/backward functions over flat float32 buffers.
//
// # Conventions
//
//   - Layout: every matrix is a row-major []float32. Activations are
//     [rows, dim] with rows = batch*tokens. Linear weights use the PyTorch
//     layout [outDim, inDim]. The fused qkv activation is [B*T, 3D]: columns
//     [0,D) hold q, [D,2D) k and [2D,3D) v, and head h owns the columns
//     h*hd..(h+1)*hd of each (hd = D/H).
//
//   - Accumulation: every Backward function ADDS (+=) into its gradient
//     outputs; the caller zeroes them when it wants a fresh gradient. A nil
//     gradient output means "not needed" and is skipped.
//
//   - Determinism: results are bit-identical from run to run and do not
//     depend on GOMAXPROCS. Work is only split across goroutines over
//     independent outputs (rows or tiles of C, columns of a weight gradient,
//     (batch, head) pairs), and every output element is summed in a fixed
//     order that depends only on the problem shape.
//
//   - Lengths: element-wise functions take their length from the destination
//     (first) slice and panic if a source is shorter.
//
//   - Threads: large problems are split across GOMAXPROCS goroutines inside
//     each call; small ones stay on the calling goroutine. Inside the kernels
//     the chunks (fixed by the shapes) are handed out dynamically, so a
//     helper goroutine that the OS schedules late does not stall the call.
//     Calls may run concurrently on different buffers. A caller that runs
//     calls side by side caps the goroutines of each through the [Workers]
//     methods (the package-level functions use every core); nothing in the
//     package is a process-wide setting.
//
// # Implementations
//
// Every kernel has a portable pure-Go version. On amd64 CPUs with AVX2 and
// FMA the hot loops run in Go assembly (klauspost/compress style: the
// assembly sits beside its pure-Go twin and tests compare the two); the
// choice is made once at start-up (see [Implementation]). Building with the
// tag purego, or setting FRANKENVIT_PUREGO=1 in the environment, forces the
// pure-Go path. The two paths agree to float32 rounding, not bit for bit.
//
//   - GEMM: a BLIS-style driver (kc blocking of k; jobs are tiles of C) over
//     a 6×16 AVX2/FMA micro-kernel that reads A and B in place through
//     strides (only transposed B and edge panels are packed) and adds the
//     bias in its epilogue; pure Go uses a 4×2 (amd64) or 4×4 register tile
//     over packed panels.
//   - Attention: per (batch, head) pair. The forward is one fused pass
//     (S = QKᵀ, softmax, P·V, 4 query rows at a time over an L1-resident
//     Kᵀ; bit-identical to the unfused GEMM + softmax + GEMM sequence it
//     replaced), and for inference with long sequences (T > 64, heads of
//     >= 32 columns) a tiled pass with an online softmax (120×64 tiles; it
//     differs from the other paths by float rounding). The backward runs
//     the four products on the small-GEMM micro-kernels, with an
//     in-register 8×8 transpose for Vᵀ and a vectorised softmax backward,
//     or, for heads of 16 columns and T <= 64, fused 4 query rows at a time
//     (bit-identical to the unfused backward). FRANKENVIT_ATTN=unfused
//     selects the old unfused forward and backward everywhere.
//   - GELU: erfc through the Numerical Recipes fit t·exp(-z²+P(t)), with
//     z² carried in two floats so the result keeps ~5e-7 relative accuracy
//     on the whole line (the pure-Go twin evaluates it in float64).
//   - LayerNorm, softmax, exp and the vector helpers: 8-lane loops with
//     fixed-order horizontal reductions.
package kernels
