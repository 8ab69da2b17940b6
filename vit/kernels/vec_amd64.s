//go:build amd64 && !purego

#include "textflag.h"

// HSUM reduces the 8 lanes of Y(r) into lane 0 of X(r) (fixed order),
// using X(t) as a temporary.
#define HSUM(yr, xr, xt) \
	VEXTRACTF128 $1, yr, xt; \
	VADDPS       xt, xr, xr; \
	VPERMILPS    $0x4e, xr, xt; \
	VADDPS       xt, xr, xr; \
	VPERMILPS    $0xb1, xr, xt; \
	VADDPS       xt, xr, xr

// func addAVX2(out, a, b *float32, n int)   // out = a + b, n % 8 == 0
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   adone
	CMPQ CX, $4
	JLT  a1

a4:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS  (DX), Y0, Y0
	VADDPS  32(DX), Y1, Y1
	VADDPS  64(DX), Y2, Y2
	VADDPS  96(DX), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     a4
	TESTQ   CX, CX
	JZ      adone

a1:
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     a1

adone:
	VZEROUPPER
	RET

// func axpyAVX2(alpha float32, x, y *float32, n int)   // y += alpha*x, n % 8 == 0
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX
	JZ           xdone

x1:
	VMOVUPS     (DI), Y0
	VFMADD231PS (SI), Y15, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JNZ         x1

xdone:
	VZEROUPPER
	RET

// func dotAVX2(a, b *float32, n int) float32   // n % 32 == 0
// Four 8-lane partial sums, combined as (s0+s1)+(s2+s3), then HSUM.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DX
	MOVQ   n+16(FP), CX
	SHRQ   $5, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TESTQ  CX, CX
	JZ     dsum

d4:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DX), Y4, Y0
	VFMADD231PS 32(DX), Y5, Y1
	VFMADD231PS 64(DX), Y6, Y2
	VFMADD231PS 96(DX), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DX
	DECQ        CX
	JNZ         d4

dsum:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM(Y0, X0, X1)
	VZEROUPPER
	MOVSS  X0, ret+24(FP)
	RET

// func lnForwardAVX2(out, mean, rstd, inp, w, b *float32, rows, dim int, eps, invDim float32)
// LayerNorm over rows of dim floats (dim % 8 == 0, dim > 0):
// mean = sum(x)/dim, var = sum((x-mean)^2)/dim, rstd = 1/sqrt(var+eps),
// out = (x-mean)*rstd*w + b.
TEXT ·lnForwardAVX2(SB), NOSPLIT, $0-72
	MOVQ         out+0(FP), DI
	MOVQ         mean+8(FP), R8
	MOVQ         rstd+16(FP), R9
	MOVQ         inp+24(FP), SI
	MOVQ         rows+48(FP), BX
	MOVQ         dim+56(FP), R10
	SHRQ         $3, R10            // chunks per row
	VBROADCASTSS eps+64(FP), Y14
	VBROADCASTSS invDim+68(FP), Y15
	TESTQ        BX, BX
	JZ           fdone

frow:
	// pass 1: mean
	VXORPS Y0, Y0, Y0
	MOVQ   SI, AX
	MOVQ   R10, CX

fsum:
	VADDPS (AX), Y0, Y0
	ADDQ   $32, AX
	DECQ   CX
	JNZ    fsum
	HSUM(Y0, X0, X1)
	VMULSS       X15, X0, X0
	VMOVSS       X0, (R8)
	VBROADCASTSS X0, Y1

	// pass 2: variance -> rstd
	VXORPS Y2, Y2, Y2
	MOVQ   SI, AX
	MOVQ   R10, CX

fvar:
	VMOVUPS     (AX), Y3
	VSUBPS      Y1, Y3, Y3
	VFMADD231PS Y3, Y3, Y2
	ADDQ        $32, AX
	DECQ        CX
	JNZ         fvar
	HSUM(Y2, X2, X3)
	VMULSS       X15, X2, X2
	VADDSS       X14, X2, X2
	VSQRTSS      X2, X2, X2
	VMOVSS       one<>(SB), X3
	VDIVSS       X2, X3, X3
	VMOVSS       X3, (R9)
	VBROADCASTSS X3, Y4

	// pass 3: out = (x-mean)*rstd*w + b
	MOVQ w+32(FP), DX
	MOVQ b+40(FP), R11
	MOVQ SI, AX
	MOVQ R10, CX

fout:
	VMOVUPS     (AX), Y3
	VSUBPS      Y1, Y3, Y3
	VMULPS      Y4, Y3, Y3
	VMOVUPS     (DX), Y5
	VFMADD213PS (R11), Y5, Y3
	VMOVUPS     Y3, (DI)
	ADDQ        $32, AX
	ADDQ        $32, DX
	ADDQ        $32, R11
	ADDQ        $32, DI
	DECQ        CX
	JNZ         fout

	MOVQ AX, SI
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ BX
	JNZ  frow

fdone:
	VZEROUPPER
	RET

// func lnBackwardAVX2(dinp, dout, inp, w, mean, rstd *float32, rows, dim int, invDim float32)
// dinp += (dnorm - mean(dnorm) - norm*mean(dnorm*norm)) * rstd, with
// norm = (x-mean)*rstd and dnorm = dout*w (dim % 8 == 0, dim > 0).
TEXT ·lnBackwardAVX2(SB), NOSPLIT, $0-68
	MOVQ         dinp+0(FP), DI
	MOVQ         dout+8(FP), DX
	MOVQ         inp+16(FP), SI
	MOVQ         mean+32(FP), R8
	MOVQ         rstd+40(FP), R9
	MOVQ         rows+48(FP), BX
	MOVQ         dim+56(FP), R10
	SHRQ         $3, R10
	VBROADCASTSS invDim+64(FP), Y15
	TESTQ        BX, BX
	JZ           bdone

brow:
	VBROADCASTSS (R8), Y1
	VBROADCASTSS (R9), Y4
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	MOVQ         SI, AX
	MOVQ         DX, R12
	MOVQ         w+24(FP), R11
	MOVQ         R10, CX

bsum:
	VMOVUPS     (AX), Y3
	VSUBPS      Y1, Y3, Y3
	VMULPS      Y4, Y3, Y3
	VMOVUPS     (R12), Y5
	VMULPS      (R11), Y5, Y5
	VADDPS      Y5, Y6, Y6
	VFMADD231PS Y5, Y3, Y7
	ADDQ        $32, AX
	ADDQ        $32, R12
	ADDQ        $32, R11
	DECQ        CX
	JNZ         bsum
	HSUM(Y6, X6, X0)
	HSUM(Y7, X7, X0)
	VMULSS       X15, X6, X6
	VMULSS       X15, X7, X7
	VBROADCASTSS X6, Y6
	VBROADCASTSS X7, Y7

	MOVQ SI, AX
	MOVQ DX, R12
	MOVQ w+24(FP), R11
	MOVQ R10, CX

bout:
	VMOVUPS      (AX), Y3
	VSUBPS       Y1, Y3, Y3
	VMULPS       Y4, Y3, Y3
	VMOVUPS      (R12), Y5
	VMULPS       (R11), Y5, Y5
	VSUBPS       Y6, Y5, Y5
	VFNMADD231PS Y7, Y3, Y5
	VMULPS       Y4, Y5, Y5
	VADDPS       (DI), Y5, Y5
	VMOVUPS      Y5, (DI)
	ADDQ         $32, AX
	ADDQ         $32, R12
	ADDQ         $32, R11
	ADDQ         $32, DI
	DECQ         CX
	JNZ          bout

	MOVQ AX, SI
	MOVQ R12, DX
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ BX
	JNZ  brow

bdone:
	VZEROUPPER
	RET

// LNP_CHUNK adds one 8-column chunk of a row to lnParams' sums: x =
// (inp-mean)*rstd in xr, dout in dr; accw += dout*x, accb += dout.
#define LNP_CHUNK(off, xr, dr, accw, accb) \
	VMOVUPS     off(SI), xr; \
	VSUBPS      Y1, xr, xr; \
	VMULPS      Y4, xr, xr; \
	VMOVUPS     off(DX), dr; \
	VADDPS      dr, accb, accb; \
	VFMADD231PS dr, xr, accw

// ADD_INTO4 adds four YMM sums into the 32 floats at (AX).
#define ADD_INTO4(a, b, c, d) \
	VADDPS  (AX), a, a; \
	VMOVUPS a, (AX); \
	VADDPS  32(AX), b, b; \
	VMOVUPS b, 32(AX); \
	VADDPS  64(AX), c, c; \
	VMOVUPS c, 64(AX); \
	VADDPS  96(AX), d, d; \
	VMOVUPS d, 96(AX)

// func lnParamsAVX2(dw, db, dout, inp, mean, rstd *float32, rows, ld, width int)
// For 8-column chunks of [0,width) (width % 8 == 0), over all rows in order:
// dw += sum_r dout*norm, db += sum_r dout (sums formed first, then added);
// dout/inp rows are ld floats apart. dw or db may be nil. Four chunks go
// through the rows together while 32 columns are left: each column's sum is
// the same chain, but eight chains in flight instead of two keep the adds
// from waiting on each other's latency.
TEXT ·lnParamsAVX2(SB), NOSPLIT, $0-72
	MOVQ ld+56(FP), R10
	SHLQ $2, R10
	XORQ R11, R11              // column offset in bytes
	MOVQ width+64(FP), R13
	SHLQ $2, R13

pchunk4:
	MOVQ   R13, AX
	SUBQ   R11, AX
	CMPQ   AX, $128
	JLT    pchunk
	MOVQ   dout+16(FP), DX
	ADDQ   R11, DX
	MOVQ   inp+24(FP), SI
	ADDQ   R11, SI
	MOVQ   mean+32(FP), R8
	MOVQ   rstd+40(FP), R9
	MOVQ   rows+48(FP), CX
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	TESTQ  CX, CX
	JZ     pstore4

prow4:
	VBROADCASTSS (R8), Y1
	VBROADCASTSS (R9), Y4
	LNP_CHUNK(0, Y3, Y5, Y6, Y7)
	LNP_CHUNK(32, Y0, Y2, Y8, Y9)
	LNP_CHUNK(64, Y3, Y5, Y10, Y11)
	LNP_CHUNK(96, Y0, Y2, Y12, Y13)
	ADDQ         R10, SI
	ADDQ         R10, DX
	ADDQ         $4, R8
	ADDQ         $4, R9
	DECQ         CX
	JNZ          prow4

pstore4:
	MOVQ    dw+0(FP), AX
	TESTQ   AX, AX
	JZ      pdb4
	ADDQ    R11, AX
	ADD_INTO4(Y6, Y8, Y10, Y12)

pdb4:
	MOVQ    db+8(FP), AX
	TESTQ   AX, AX
	JZ      pnext4
	ADDQ    R11, AX
	ADD_INTO4(Y7, Y9, Y11, Y13)

pnext4:
	ADDQ $128, R11
	JMP  pchunk4

pchunk:
	CMPQ   R11, R13
	JGE    pdone
	MOVQ   dout+16(FP), DX
	ADDQ   R11, DX
	MOVQ   inp+24(FP), SI
	ADDQ   R11, SI
	MOVQ   mean+32(FP), R8
	MOVQ   rstd+40(FP), R9
	MOVQ   rows+48(FP), CX
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ  CX, CX
	JZ     pstore

prow:
	VBROADCASTSS (R8), Y1
	VBROADCASTSS (R9), Y4
	VMOVUPS      (SI), Y3
	VSUBPS       Y1, Y3, Y3
	VMULPS       Y4, Y3, Y3
	VMOVUPS      (DX), Y5
	VADDPS       Y5, Y7, Y7
	VFMADD231PS  Y5, Y3, Y6
	ADDQ         R10, SI
	ADDQ         R10, DX
	ADDQ         $4, R8
	ADDQ         $4, R9
	DECQ         CX
	JNZ          prow

pstore:
	MOVQ    dw+0(FP), AX
	TESTQ   AX, AX
	JZ      pdb
	ADDQ    R11, AX
	VADDPS  (AX), Y6, Y6
	VMOVUPS Y6, (AX)

pdb:
	MOVQ    db+8(FP), AX
	TESTQ   AX, AX
	JZ      pnext
	ADDQ    R11, AX
	VADDPS  (AX), Y7, Y7
	VMOVUPS Y7, (AX)

pnext:
	ADDQ $32, R11
	JMP  pchunk

pdone:
	VZEROUPPER
	RET

// func colSumsAVX2(dst, x *float32, rows, ld, cols int)
// dst[c] += x[0][c], then x[1][c], ... in row order, for c < cols (cols %
// 8 == 0; x's rows ld floats apart): the sums addAVX2 formed one row at a
// time (the accumulator as VADDPS's first operand), kept in registers
// across the rows, 64 columns at a time while they last (every layer width
// of the models is a multiple of 64), then 8.
TEXT ·colSumsAVX2(SB), NOSPLIT, $0-40
	MOVQ ld+24(FP), R10
	SHLQ $2, R10
	XORQ R11, R11              // column offset in bytes
	MOVQ cols+32(FP), R13
	SHLQ $2, R13

csum8:
	MOVQ    R13, AX
	SUBQ    R11, AX
	CMPQ    AX, $256
	JLT     csum1
	MOVQ    dst+0(FP), DI
	ADDQ    R11, DI
	MOVQ    x+8(FP), SI
	ADDQ    R11, SI
	MOVQ    rows+16(FP), CX
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	TESTQ   CX, CX
	JZ      cst8

crow8:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	VADDPS 128(SI), Y4, Y4
	VADDPS 160(SI), Y5, Y5
	VADDPS 192(SI), Y6, Y6
	VADDPS 224(SI), Y7, Y7
	ADDQ   R10, SI
	DECQ   CX
	JNZ    crow8

cst8:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    $256, R11
	JMP     csum8

csum1:
	CMPQ    R11, R13
	JGE     cdone
	MOVQ    dst+0(FP), DI
	ADDQ    R11, DI
	MOVQ    x+8(FP), SI
	ADDQ    R11, SI
	MOVQ    rows+16(FP), CX
	VMOVUPS (DI), Y0
	TESTQ   CX, CX
	JZ      cst1

crow1:
	VADDPS (SI), Y0, Y0
	ADDQ   R10, SI
	DECQ   CX
	JNZ    crow1

cst1:
	VMOVUPS Y0, (DI)
	ADDQ    $32, R11
	JMP     csum1

cdone:
	VZEROUPPER
	RET

DATA one<>+0(SB)/4, $0x3f800000
GLOBL one<>(SB), RODATA|NOPTR, $4

// func softmaxBackRowsAVX2(p, d *float32, tp, rows int, scale float32)
// For each of rows rows of tp floats (tp % 8 == 0, tp > 0):
// s = sum_j p[j]*d[j] (8 lanes, then HSUM); d[j] = p[j]*(d[j]-s)*scale.
TEXT ·softmaxBackRowsAVX2(SB), NOSPLIT, $0-36
	MOVQ         p+0(FP), SI
	MOVQ         d+8(FP), DI
	MOVQ         tp+16(FP), R8
	SHRQ         $3, R8
	MOVQ         rows+24(FP), BX
	VBROADCASTSS scale+32(FP), Y15
	TESTQ        BX, BX
	JZ           sbdone

sbrow:
	VXORPS Y0, Y0, Y0
	MOVQ   SI, AX
	MOVQ   DI, DX
	MOVQ   R8, CX

sbdot:
	VMOVUPS     (AX), Y1
	VFMADD231PS (DX), Y1, Y0
	ADDQ        $32, AX
	ADDQ        $32, DX
	DECQ        CX
	JNZ         sbdot
	HSUM(Y0, X0, X1)
	VBROADCASTSS X0, Y2
	MOVQ         R8, CX

sbout:
	VMOVUPS (DI), Y1
	VSUBPS  Y2, Y1, Y1
	VMULPS  (SI), Y1, Y1
	VMULPS  Y15, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     sbout
	DECQ    BX
	JNZ     sbrow

sbdone:
	VZEROUPPER
	RET
