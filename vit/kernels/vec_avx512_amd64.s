//go:build amd64 && !purego

#include "textflag.h"

// 16-lane twins of vec_amd64.s's kernels, bit-identical to them: every
// lane does the AVX2 kernel's operations in the same order with the same
// operand order (so even the NaN passed on is the same). AVX512F only.

// func addAVX512(out, a, b *float32, n int)   // out = a + b, n % 16 == 0
TEXT ·addAVX512(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JZ   zadone
	CMPQ CX, $4
	JLT  za1

za4:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VADDPS  (DX), Z0, Z0
	VADDPS  64(DX), Z1, Z1
	VADDPS  128(DX), Z2, Z2
	VADDPS  192(DX), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     za4
	TESTQ   CX, CX
	JZ      zadone

za1:
	VMOVUPS (SI), Z0
	VADDPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	DECQ    CX
	JNZ     za1

zadone:
	VZEROUPPER
	RET

// lnPerm: VPERMPS indices broadcasting lane 0 to the low 8 lanes and lane 8
// to the high 8.
DATA lnPerm<>+0(SB)/8, $0
DATA lnPerm<>+8(SB)/8, $0
DATA lnPerm<>+16(SB)/8, $0
DATA lnPerm<>+24(SB)/8, $0
DATA lnPerm<>+32(SB)/8, $0x0000000800000008
DATA lnPerm<>+40(SB)/8, $0x0000000800000008
DATA lnPerm<>+48(SB)/8, $0x0000000800000008
DATA lnPerm<>+56(SB)/8, $0x0000000800000008
GLOBL lnPerm<>(SB), RODATA|NOPTR, $64

DATA oneZ<>+0(SB)/4, $0x3f800000
GLOBL oneZ<>(SB), RODATA|NOPTR, $4

// HSUM2 is vec_amd64.s's HSUM on each 256-bit half of Z(z) (a row in
// each): the sums land in lanes 0 and 8, each from the same additions in
// the same order as HSUM's. t is a temporary.
#define HSUM2(z, t) \
	VSHUFF32X4 $0xb1, z, z, t; \
	VADDPS     t, z, z; \
	VPERMILPS  $0x4e, z, t; \
	VADDPS     t, z, z; \
	VPERMILPS  $0xb1, z, t; \
	VADDPS     t, z, z

// func lnForwardAVX512(out, mean, rstd, inp, w, b *float32, rows, dim int, eps, invDim float32)
// lnForwardAVX2 on 4 rows at a time (rows % 4 == 0, dim % 8 == 0, dim > 0),
// two rows to a ZMM register (one per 256-bit half): each row is summed in
// its 8 lanes chunk after chunk exactly as lnForwardAVX2 sums it, and
// reduced by HSUM's steps, so mean, rstd and out are the same bits; the
// gain is four rows' dependency chains in flight instead of one.
// Registers: rows A,B in Z0-Z4 (sum, mean, var, x, rstd), rows C,D in
// Z8-Z12; R12 = row stride in bytes, R13 = 3 rows.
TEXT ·lnForwardAVX512(SB), NOSPLIT, $0-72
	MOVQ         out+0(FP), DI
	MOVQ         mean+8(FP), R8
	MOVQ         rstd+16(FP), R9
	MOVQ         inp+24(FP), SI
	MOVQ         rows+48(FP), BX
	MOVQ         dim+56(FP), R10
	MOVQ         R10, R12
	SHLQ         $2, R12
	LEAQ         (R12)(R12*2), R13
	SHRQ         $3, R10
	VBROADCASTSS eps+64(FP), Z14
	VBROADCASTSS invDim+68(FP), Z15
	VMOVDQU32    lnPerm<>(SB), Z13
	SHRQ         $2, BX
	JZ           zlndone

zlnrow:
	// pass 1: mean
	VPXORD Z0, Z0, Z0
	VPXORD Z8, Z8, Z8
	MOVQ   SI, AX
	MOVQ   R10, CX

zlnsum:
	VMOVUPS      (AX), Y3
	VINSERTF64X4 $1, (AX)(R12*1), Z3, Z3
	VMOVUPS      (AX)(R12*2), Y11
	VINSERTF64X4 $1, (AX)(R13*1), Z11, Z11
	VADDPS       Z3, Z0, Z0
	VADDPS       Z11, Z8, Z8
	ADDQ         $32, AX
	DECQ         CX
	JNZ          zlnsum
	HSUM2(Z0, Z3)
	HSUM2(Z8, Z11)
	VMULPS        Z15, Z0, Z0
	VMULPS        Z15, Z8, Z8
	VMOVSS        X0, (R8)
	VEXTRACTF32X4 $2, Z0, X3
	VMOVSS        X3, 4(R8)
	VMOVSS        X8, 8(R8)
	VEXTRACTF32X4 $2, Z8, X11
	VMOVSS        X11, 12(R8)
	VPERMPS       Z0, Z13, Z1
	VPERMPS       Z8, Z13, Z9

	// pass 2: variance -> rstd
	VPXORD Z2, Z2, Z2
	VPXORD Z10, Z10, Z10
	MOVQ   SI, AX
	MOVQ   R10, CX

zlnvar:
	VMOVUPS      (AX), Y3
	VINSERTF64X4 $1, (AX)(R12*1), Z3, Z3
	VMOVUPS      (AX)(R12*2), Y11
	VINSERTF64X4 $1, (AX)(R13*1), Z11, Z11
	VSUBPS       Z1, Z3, Z3
	VSUBPS       Z9, Z11, Z11
	VFMADD231PS  Z3, Z3, Z2
	VFMADD231PS  Z11, Z11, Z10
	ADDQ         $32, AX
	DECQ         CX
	JNZ          zlnvar
	HSUM2(Z2, Z3)
	HSUM2(Z10, Z11)
	VMULPS        Z15, Z2, Z2
	VMULPS        Z15, Z10, Z10
	VADDPS        Z14, Z2, Z2
	VADDPS        Z14, Z10, Z10
	VSQRTPS       Z2, Z2
	VSQRTPS       Z10, Z10
	VBROADCASTSS  oneZ<>(SB), Z3
	VDIVPS        Z2, Z3, Z4
	VDIVPS        Z10, Z3, Z12
	VMOVSS        X4, (R9)
	VEXTRACTF32X4 $2, Z4, X3
	VMOVSS        X3, 4(R9)
	VMOVSS        X12, 8(R9)
	VEXTRACTF32X4 $2, Z12, X11
	VMOVSS        X11, 12(R9)
	VPERMPS       Z4, Z13, Z4
	VPERMPS       Z12, Z13, Z12

	// pass 3: out = (x-mean)*rstd*w + b
	MOVQ w+32(FP), R11
	MOVQ b+40(FP), DX
	MOVQ SI, AX
	MOVQ R10, CX

zlnout:
	VBROADCASTF64X4 (R11), Z5
	VBROADCASTF64X4 (DX), Z6
	VMOVUPS         (AX), Y3
	VINSERTF64X4    $1, (AX)(R12*1), Z3, Z3
	VMOVUPS         (AX)(R12*2), Y11
	VINSERTF64X4    $1, (AX)(R13*1), Z11, Z11
	VSUBPS          Z1, Z3, Z3
	VSUBPS          Z9, Z11, Z11
	VMULPS          Z4, Z3, Z3
	VMULPS          Z12, Z11, Z11
	VFMADD213PS     Z6, Z5, Z3
	VFMADD213PS     Z6, Z5, Z11
	VMOVUPS         Y3, (DI)
	VEXTRACTF64X4   $1, Z3, (DI)(R12*1)
	VMOVUPS         Y11, (DI)(R12*2)
	VEXTRACTF64X4   $1, Z11, (DI)(R13*1)
	ADDQ            $32, AX
	ADDQ            $32, R11
	ADDQ            $32, DX
	ADDQ            $32, DI
	DECQ            CX
	JNZ             zlnout

	// AX and DI are one row on: on to the next 4 rows.
	LEAQ (AX)(R13*1), SI
	ADDQ R13, DI
	ADDQ $16, R8
	ADDQ $16, R9
	DECQ BX
	JNZ  zlnrow

zlndone:
	VZEROUPPER
	RET
