//go:build amd64 && !purego

#include "textflag.h"

// Attention kernels: the fused (batch, head) pair of attnFusedAVX2 and the
// online-softmax row update of the tiled inference path (flashRowsAVX2).
// The exp is softmaxRowsAVX2's (exp_amd64.h), so the fused kernel's softmax
// is bit-identical to it.

// attnMask<>: 8 zero lanes then 8 all-ones lanes; the 8 lanes from index
// tp-T are the padding lanes of the last 8 columns of a score row.
DATA attnMask<>+0(SB)/8, $0
DATA attnMask<>+8(SB)/8, $0
DATA attnMask<>+16(SB)/8, $0
DATA attnMask<>+24(SB)/8, $0
DATA attnMask<>+32(SB)/8, $-1
DATA attnMask<>+40(SB)/8, $-1
DATA attnMask<>+48(SB)/8, $-1
DATA attnMask<>+56(SB)/8, $-1
GLOBL attnMask<>(SB), RODATA|NOPTR, $64

// attnPairIdx<>: VPERMPS indices that copy lane 0 to lanes 0..7 and lane
// 8 to lanes 8..15 (one value per row of a two-row ZMM).
DATA attnPairIdx<>+0(SB)/8, $0
DATA attnPairIdx<>+8(SB)/8, $0
DATA attnPairIdx<>+16(SB)/8, $0
DATA attnPairIdx<>+24(SB)/8, $0
DATA attnPairIdx<>+32(SB)/8, $0x0000000800000008
DATA attnPairIdx<>+40(SB)/8, $0x0000000800000008
DATA attnPairIdx<>+48(SB)/8, $0x0000000800000008
DATA attnPairIdx<>+56(SB)/8, $0x0000000800000008
GLOBL attnPairIdx<>(SB), RODATA|NOPTR, $64

DATA attnNegInf<>+0(SB)/4, $0xff800000
GLOBL attnNegInf<>(SB), RODATA|NOPTR, $4
#define K_neginf attnNegInf<>+0(SB)

#include "exp_amd64.h"


// FMA16(acc0, acc1, b0, b1, x): the 4x16 inner step (acc rows in Y0..Y7).
#define FMA4x16 \
	VFMADD231PS Y8, Y10, Y0; \
	VFMADD231PS Y9, Y10, Y1; \
	VFMADD231PS Y8, Y11, Y2; \
	VFMADD231PS Y9, Y11, Y3; \
	VFMADD231PS Y8, Y12, Y4; \
	VFMADD231PS Y9, Y12, Y5; \
	VFMADD231PS Y8, Y13, Y6; \
	VFMADD231PS Y9, Y13, Y7

#define FMA4x8 \
	VFMADD231PS Y8, Y10, Y0; \
	VFMADD231PS Y8, Y11, Y2; \
	VFMADD231PS Y8, Y12, Y4; \
	VFMADD231PS Y8, Y13, Y6

// func attnFusedAVX2(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)
//
// One (batch, head) pair of the attention forward, m query rows (m >= 4)
// against T keys (tp = T rounded up to 8; hd a positive multiple of 8):
//
//	S = scale * Q·Kᵀ ; P = softmax(S) per row ; O = P·V
//
// Q rows are q + i*ld, V rows v + p*ld, O rows out + i*ldo; kt is Kᵀ (hd×tp,
// zero columns T..tp). Rows go in groups of 4 through s (4×tp scratch); the
// last group is moved back to rows m-4..m-1, so it recomputes (bit for bit)
// rows already done rather than padding. probs (rows of T, may be nil)
// receives P. The arithmetic per element is exactly that of the unfused
// path: S by rowsGemmAVX2 (FMA over p increasing, then *scale), P by
// softmaxRowsAVX2 over tp lanes with -Inf padding, O by rowsGemmAVX2 (FMA
// over p < T increasing; its *1 is exact and skipped).
TEXT ·attnFusedAVX2(SB), NOSPLIT, $0-100
#include "attn_fused_amd64.h"

// FMA4x32: FMA4x16 on ZMM registers (two 16-column vectors per row).
#define FMA4x32 \
	VFMADD231PS Z8, Z10, Z0; \
	VFMADD231PS Z9, Z10, Z1; \
	VFMADD231PS Z8, Z11, Z2; \
	VFMADD231PS Z9, Z11, Z3; \
	VFMADD231PS Z8, Z12, Z4; \
	VFMADD231PS Z9, Z12, Z5; \
	VFMADD231PS Z8, Z13, Z6; \
	VFMADD231PS Z9, Z13, Z7

// func attnFusedAVX512(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)
//
// attnFusedAVX2 with the two products widened to AVX-512 (AVX512F): S and
// O go by 4×32 blocks on ZMM registers where 32 columns remain (then the
// 4×16 and 4×8 YMM blocks, as in attnFusedAVX2). Every element of S and O
// is its own FMA chain over p increasing from zero, so the block width does
// not change a bit. The softmax runs two rows per ZMM register (one per
// 256-bit half), each with attnFusedAVX2's operations: its 8-lane max and
// sum reductions in the same order, the same exp per lane. Everything else
// is attnFusedAVX2's code unchanged: outputs and probs are bit-identical.
#define ATTN_FUSED_WIDE
TEXT ·attnFusedAVX512(SB), NOSPLIT, $0-100
#include "attn_fused_amd64.h"
#undef ATTN_FUSED_WIDE

// func flashRowsAVX2(s *float32, lds, n8, rows int, mrow, lrow, o *float32, hd int)
//
// The online-softmax step of the tiled inference path, for each row r <
// rows of the score tile s (row stride lds floats, n8*8 scores per row,
// padding set to -Inf): mnew = max(mrow[r], max(s[r])), a = exp(mrow[r] -
// mnew) (0 for the first tile, where mrow is -Inf), s[r] = exp(s[r] - mnew)
// in place, lrow[r] = a*lrow[r] + sum(s[r]), mrow[r] = mnew and the output
// accumulator row o[r*hd : r*hd+hd] *= a (hd a multiple of 8).
TEXT ·flashRowsAVX2(SB), NOSPLIT, $0-64
	MOVQ s+0(FP), DI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ n8+16(FP), R11
	MOVQ rows+24(FP), DX
	MOVQ mrow+32(FP), R12
	MOVQ lrow+40(FP), R13
	MOVQ o+48(FP), BX
	MOVQ hd+56(FP), R10
	SHRQ $3, R10
	TESTQ DX, DX
	JZ   fdone

frow:
	VMOVUPS (DI), Y1
	MOVQ    DI, AX
	MOVQ    R11, CX
	DECQ    CX
	JZ      fhmax

fmax:
	ADDQ   $32, AX
	VMAXPS (AX), Y1, Y1
	DECQ   CX
	JNZ    fmax

fhmax:
	VEXTRACTF128 $1, Y1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0x4e, X1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0xb1, X1, X2
	VMAXPS       X2, X1, X1
	VMOVSS       (R12), X3       // old max
	VMAXSS       X3, X1, X1      // new max
	VMOVSS       X1, (R12)
	VBROADCASTSS X1, Y15
	VSUBSS       X1, X3, X3      // old - new (-Inf on the first tile)
	VBROADCASTSS X3, Y0
	EXPZ(Y0, Y7)                 // Y7 = a in every lane
	VXORPS       Y12, Y12, Y12
	MOVQ         DI, AX
	MOVQ         R11, CX

fexp:
	VMOVUPS (AX), Y0
	VSUBPS  Y15, Y0, Y0
	EXPZ(Y0, Y8)
	VMOVUPS Y8, (AX)
	VADDPS  Y8, Y12, Y12
	ADDQ    $32, AX
	DECQ    CX
	JNZ     fexp

	VEXTRACTF128 $1, Y12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0x4e, X12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0xb1, X12, X13
	VADDPS       X13, X12, X12
	VMOVSS       (R13), X4
	VFMADD231SS  X4, X7, X12     // sum + a*l
	VMOVSS       X12, (R13)

	// o row *= a
	MOVQ R10, CX

fscale:
	VMULPS  (BX), Y7, Y0
	VMOVUPS Y0, (BX)
	ADDQ    $32, BX
	DECQ    CX
	JNZ     fscale

	ADDQ R8, DI
	ADDQ $4, R12
	ADDQ $4, R13
	DECQ DX
	JNZ  frow

fdone:
	VZEROUPPER
	RET

// func flashTileAVX2(m, n, np, hd int, q *float32, ldq int, kt *float32, v *float32, ldv int, o *float32, mrow, lrow *float32, s *float32, scale float32, out *float32, ldo int, last bool)
//
// One tile of the tiled inference path: m query rows (a multiple of 6)
// against a block of n keys (np = n rounded up to 8; hd a multiple of 8),
// with the online softmax. Rows go in groups of 6 (the 6×16 and 6×8 shapes
// of the GEMM micro-kernel). Q rows are q + i*ldq, kt is the block's Kᵀ
// (hd×np, zero columns n..np), V rows are v + p*ldv. o is the output
// accumulator packed
// by groups and column blocks: row 6g+r, column c0+j of the block of width
// w (16, or 8 for the last 8 columns when hd%16 == 8) starting at c0 at
// o[g*6*hd + 6*c0 + r*w + j]. mrow and lrow (m each) are the running max
// and sum. s is 6*np + 12 floats: the group's scores, its 6 rescale factors
// and 6 inverse sums. Per row: mnew = max(mrow, max(S)), a = exp(mrow-mnew),
// P = exp(S-mnew), lrow = a*lrow + sum(P), mrow = mnew, o = a*o + P·V. On
// the last key block (last), o/lrow goes to the output rows out + i*ldo
// instead of o.
TEXT ·flashTileAVX2(SB), NOSPLIT, $0-129
#include "flash_tile_amd64.h"

// func flashTileAVX512(m, n, np, hd int, q *float32, ldq int, kt *float32, v *float32, ldv int, o *float32, mrow, lrow *float32, s *float32, scale float32, out *float32, ldo int, last bool)
//
// flashTileAVX2 on the ZMM registers (AVX512F): the products go by 6×32
// blocks where 32 columns remain (then flashTileAVX2's 6×16 and 6×8), the
// exps 16 lanes at a time (then 8). Every element of S and o is its own
// FMA chain in flashTileAVX2's order, every exp the same operations per
// lane, and the max and sum keep the 8-lane reductions in column order (a
// 16-lane exp block adds its low, then its high half to the 8-lane sum):
// every result is bit-identical to flashTileAVX2's, and o keeps its layout.
#define FLASH_TILE_WIDE
TEXT ·flashTileAVX512(SB), NOSPLIT, $0-129
#include "flash_tile_amd64.h"
#undef FLASH_TILE_WIDE

// func attnFused16AVX512(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)
//
// attnFusedAVX512 for heads of 16 columns (hd == 16, m >= 8), 8 query rows
// per group instead of 4 (s is 8*tp floats): S by 8×32 blocks (the last
// one's columns past tp masked off: AVX512F masked loads and stores), P·V
// with one ZMM accumulator per row, so each Kᵀ or V row loaded feeds 8
// rows' FMAs and P·V has 8 independent chains (4 rows' would wait on the
// FMA latency). The last group moves back to rows m-8..m-1, as
// in attnFusedAVX2. Every element of S, P and O gets attnFusedAVX2's
// operations in its order (S: FMAs over p increasing, then *scale; the
// softmax of attn_softmax_pairs_amd64.h; O: FMAs over j < T increasing), so
// out and probs are bit-identical to it.
TEXT ·attnFused16AVX512(SB), NOSPLIT, $0-100
	VPXORD    Z16, Z16, Z16       // +0: the 16-lane exp's underflow lanes
	VMOVDQU32 attnPairIdx<>(SB), Z17
	MOVQ      tp+16(FP), R9
	SHLQ      $2, R9              // tp bytes: the score rows' stride
	LEAQ      (R9)(R9*2), R13     // 3*tp bytes
	XORQ      R14, R14            // r0: first row of the group

f16group:
	MOVQ ld+40(FP), R8
	SHLQ $2, R8                   // ld bytes
	LEAQ (R8)(R8*2), R12          // 3*ld bytes
	LEAQ (R8)(R8*4), R10          // 5*ld bytes
	LEAQ (R12)(R8*4), R11         // 7*ld bytes

	// ---- S = scale * Q·Kᵀ for rows r0..r0+7 into s ----
	MOVQ  R14, BX
	IMULQ R8, BX
	ADDQ  q+32(FP), BX
	XORQ  AX, AX                  // column offset in bytes

f16scols:
	MOVQ R9, CX
	SUBQ AX, CX                   // bytes of scores left in the row
	MOVQ BX, SI
	MOVQ kt+48(FP), DI
	ADDQ AX, DI
	MOVL $0xffff, DX
	CMPQ CX, $128
	JGE  f16full
	// The last 8, 16 or 24 columns: the same block with the lanes past
	// the row masked off (K2: columns 0-15, K3: 16-31), neither read nor
	// stored.
	SHRQ  $2, CX
	MOVL  $1, DX
	SHLL  CX, DX
	DECL  DX

f16full:
	KMOVW DX, K2
	SHRL  $16, DX
	JNZ   f16khi
	MOVL  $0xffff, DX
	CMPQ  CX, $32
	JGE   f16khi
	XORL  DX, DX

f16khi:
	KMOVW  DX, K3
	MOVQ   s+88(FP), DX
	ADDQ   AX, DX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ   hd+24(FP), CX

	// 8 rows × 32 columns: Z0..Z15 (row r in Z2r, Z2r+1), Kᵀ in Z18, Z19,
	// the 8 Q values in Z20..Z27.
f16sl32:
	VMOVUPS.Z    (DI), K2, Z18
	VMOVUPS.Z    64(DI), K3, Z19
	VBROADCASTSS (SI), Z20
	VBROADCASTSS (SI)(R8*1), Z21
	VBROADCASTSS (SI)(R8*2), Z22
	VBROADCASTSS (SI)(R12*1), Z23
	VBROADCASTSS (SI)(R8*4), Z24
	VBROADCASTSS (SI)(R10*1), Z25
	VBROADCASTSS (SI)(R12*2), Z26
	VBROADCASTSS (SI)(R11*1), Z27
	VFMADD231PS  Z18, Z20, Z0
	VFMADD231PS  Z19, Z20, Z1
	VFMADD231PS  Z18, Z21, Z2
	VFMADD231PS  Z19, Z21, Z3
	VFMADD231PS  Z18, Z22, Z4
	VFMADD231PS  Z19, Z22, Z5
	VFMADD231PS  Z18, Z23, Z6
	VFMADD231PS  Z19, Z23, Z7
	VFMADD231PS  Z18, Z24, Z8
	VFMADD231PS  Z19, Z24, Z9
	VFMADD231PS  Z18, Z25, Z10
	VFMADD231PS  Z19, Z25, Z11
	VFMADD231PS  Z18, Z26, Z12
	VFMADD231PS  Z19, Z26, Z13
	VFMADD231PS  Z18, Z27, Z14
	VFMADD231PS  Z19, Z27, Z15
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          f16sl32

	VBROADCASTSS scale+96(FP), Z18
	VMULPS       Z18, Z0, Z0
	VMULPS       Z18, Z1, Z1
	VMULPS       Z18, Z2, Z2
	VMULPS       Z18, Z3, Z3
	VMULPS       Z18, Z4, Z4
	VMULPS       Z18, Z5, Z5
	VMULPS       Z18, Z6, Z6
	VMULPS       Z18, Z7, Z7
	VMULPS       Z18, Z8, Z8
	VMULPS       Z18, Z9, Z9
	VMULPS       Z18, Z10, Z10
	VMULPS       Z18, Z11, Z11
	VMULPS       Z18, Z12, Z12
	VMULPS       Z18, Z13, Z13
	VMULPS       Z18, Z14, Z14
	VMULPS       Z18, Z15, Z15
	VMOVUPS      Z0, K2, (DX)
	VMOVUPS      Z1, K3, 64(DX)
	VMOVUPS      Z2, K2, (DX)(R9*1)
	VMOVUPS      Z3, K3, 64(DX)(R9*1)
	VMOVUPS      Z4, K2, (DX)(R9*2)
	VMOVUPS      Z5, K3, 64(DX)(R9*2)
	VMOVUPS      Z6, K2, (DX)(R13*1)
	VMOVUPS      Z7, K3, 64(DX)(R13*1)
	LEAQ         (DX)(R9*4), DX
	VMOVUPS      Z8, K2, (DX)
	VMOVUPS      Z9, K3, 64(DX)
	VMOVUPS      Z10, K2, (DX)(R9*1)
	VMOVUPS      Z11, K3, 64(DX)(R9*1)
	VMOVUPS      Z12, K2, (DX)(R9*2)
	VMOVUPS      Z13, K3, 64(DX)(R9*2)
	VMOVUPS      Z14, K2, (DX)(R13*1)
	VMOVUPS      Z15, K3, 64(DX)(R13*1)
	ADDQ         $128, AX
	CMPQ         AX, R9
	JLT          f16scols

	// ---- padding columns T..tp-1 := -Inf ----
f16mask:
	MOVQ $2, BX
#include "attn_mask_rows_amd64.h"

	// ---- softmax of the 8 rows ----
	MOVQ s+88(FP), DI
	MOVQ tp+16(FP), R11
	SHRQ $3, R11
	MOVQ $4, DX

#include "attn_softmax_pairs_amd64.h"

	// ---- probs rows r0..r0+7 (T floats each) ----
	MOVQ  probs+80(FP), DI
	TESTQ DI, DI
	JZ    f16pv
	MOVQ  T+8(FP), BX
	IMULQ R14, BX
	LEAQ  (DI)(BX*4), DI
	MOVQ  s+88(FP), SI
	MOVQ  $8, DX

#include "attn_probs_rows_amd64.h"

	// ---- O = P·V for rows r0..r0+7: one ZMM per row ----
f16pv:
	MOVQ   ld+40(FP), R8
	SHLQ   $2, R8                 // V row stride in bytes
	MOVQ   ldo+72(FP), R10
	SHLQ   $2, R10
	LEAQ   (R10)(R10*2), R11      // 3*ldo bytes
	MOVQ   s+88(FP), SI           // P rows 0..3
	LEAQ   (SI)(R9*4), DX         // P rows 4..7
	MOVQ   v+56(FP), DI
	MOVQ   T+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

f16ol:
	VMOVUPS      (DI), Z8
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R9*1), Z11
	VBROADCASTSS (SI)(R9*2), Z12
	VBROADCASTSS (SI)(R13*1), Z13
	VFMADD231PS  Z8, Z10, Z0
	VFMADD231PS  Z8, Z11, Z1
	VFMADD231PS  Z8, Z12, Z2
	VFMADD231PS  Z8, Z13, Z3
	VBROADCASTSS (DX), Z10
	VBROADCASTSS (DX)(R9*1), Z11
	VBROADCASTSS (DX)(R9*2), Z12
	VBROADCASTSS (DX)(R13*1), Z13
	VFMADD231PS  Z8, Z10, Z4
	VFMADD231PS  Z8, Z11, Z5
	VFMADD231PS  Z8, Z12, Z6
	VFMADD231PS  Z8, Z13, Z7
	ADDQ         $4, SI
	ADDQ         $4, DX
	ADDQ         R8, DI
	DECQ         CX
	JNZ          f16ol

	MOVQ    R14, BX
	IMULQ   R10, BX
	ADDQ    out+64(FP), BX
	VMOVUPS Z0, (BX)
	VMOVUPS Z1, (BX)(R10*1)
	VMOVUPS Z2, (BX)(R10*2)
	VMOVUPS Z3, (BX)(R11*1)
	LEAQ    (BX)(R10*4), BX
	VMOVUPS Z4, (BX)
	VMOVUPS Z5, (BX)(R10*1)
	VMOVUPS Z6, (BX)(R10*2)
	VMOVUPS Z7, (BX)(R11*1)

	ADDQ $8, R14
	MOVQ m+0(FP), CX
	CMPQ R14, CX
	JGE  f16done
	SUBQ $8, CX
	CMPQ R14, CX
	JLE  f16group
	MOVQ CX, R14
	JMP  f16group

f16done:
	VZEROUPPER
	RET
