//go:build amd64 && !purego

#include "textflag.h"

// attnBackGroupAVX512 is attnBackGroupAVX2 (attention_back_amd64.s) on the
// ZMM registers: the same FMA chains per output element in the same order,
// 16 or 32 columns of a row per pass instead of 8 or 16 (8-column remainders
// on the YMM registers), and the softmax backward with the AVX2 kernel's
// 8-lane sums, so the results are the same bits. AVX512F only.

#define HSUM(yr, xr, xt) \
	VEXTRACTF128 $1, yr, xt; \
	VADDPS       xt, xr, xr; \
	VPERMILPS    $0x4e, xr, xt; \
	VADDPS       xt, xr, xr; \
	VPERMILPS    $0xb1, xr, xt; \
	VADDPS       xt, xr, xr

// 4 rows × 32 columns: Z8, Z9 hold the B row, Z10..Z13 the 4 A values.
#define FMA4x32 \
	VFMADD231PS Z8, Z10, Z0; \
	VFMADD231PS Z9, Z10, Z1; \
	VFMADD231PS Z8, Z11, Z2; \
	VFMADD231PS Z9, Z11, Z3; \
	VFMADD231PS Z8, Z12, Z4; \
	VFMADD231PS Z9, Z12, Z5; \
	VFMADD231PS Z8, Z13, Z6; \
	VFMADD231PS Z9, Z13, Z7

#define FMA4x16 \
	VFMADD231PS Z8, Z10, Z0; \
	VFMADD231PS Z8, Z11, Z2; \
	VFMADD231PS Z8, Z12, Z4; \
	VFMADD231PS Z8, Z13, Z6

#define FMA4x8 \
	VFMADD231PS Y8, Y10, Y0; \
	VFMADD231PS Y8, Y11, Y2; \
	VFMADD231PS Y8, Y12, Y4; \
	VFMADD231PS Y8, Y13, Y6

// func attnBackGroupAVX512(T, tp, hd int, gr *float32, ldg int, q *float32, ldq int, k *float32, ld int, vt, pp, dp, dq *float32, lddq int, dvacc, dkacc, dv, dk *float32, first, last bool, scale float32)
//
// See attnBackGroupAVX2.
TEXT ·attnBackGroupAVX512(SB), NOSPLIT, $0-152
	MOVQ tp+8(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13  // 3*tp bytes

	// ---- dP = dO·Vᵀ (4 x tp) into dp: 32, 16 or 8 columns per pass ----
	MOVQ ldg+32(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R12
	XORQ AX, AX

pcols:
	MOVQ R9, CX
	SUBQ AX, CX
	JZ   sback
	MOVQ gr+24(FP), SI
	MOVQ vt+72(FP), DI
	ADDQ AX, DI
	MOVQ dp+88(FP), DX
	ADDQ AX, DX
	CMPQ CX, $128
	JGE  p4x32
	CMPQ CX, $96
	JGE  p4x24
	CMPQ CX, $64
	JGE  p4x16
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6
	MOVQ   hd+16(FP), CX

pl8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	FMA4x8
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          pl8
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	ADDQ         $32, AX
	JMP          pcols

p4x16:
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	VPXORD Z4, Z4, Z4
	VPXORD Z6, Z6, Z6
	MOVQ   hd+16(FP), CX

pl16:
	VMOVUPS      (DI), Z8
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R8*1), Z11
	VBROADCASTSS (SI)(R8*2), Z12
	VBROADCASTSS (SI)(R12*1), Z13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          pl16
	VMOVUPS      Z0, (DX)
	VMOVUPS      Z2, (DX)(R9*1)
	VMOVUPS      Z4, (DX)(R9*2)
	VMOVUPS      Z6, (DX)(R13*1)
	ADDQ         $64, AX
	JMP          pcols

	// 24 columns (the default model's tp): the 16- and 8-column passes in
	// one loop, eight FMA chains in flight instead of four.
p4x24:
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	VPXORD Z4, Z4, Z4
	VPXORD Z6, Z6, Z6
	VXORPS Y1, Y1, Y1
	VXORPS Y3, Y3, Y3
	VXORPS Y5, Y5, Y5
	VXORPS Y7, Y7, Y7
	MOVQ   hd+16(FP), CX

pl24:
	VMOVUPS      (DI), Z8
	VMOVUPS      64(DI), Y9
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R8*1), Z11
	VBROADCASTSS (SI)(R8*2), Z12
	VBROADCASTSS (SI)(R12*1), Z13
	FMA4x16
	VFMADD231PS  Y9, Y10, Y1
	VFMADD231PS  Y9, Y11, Y3
	VFMADD231PS  Y9, Y12, Y5
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          pl24
	VMOVUPS      Z0, (DX)
	VMOVUPS      Y1, 64(DX)
	VMOVUPS      Z2, (DX)(R9*1)
	VMOVUPS      Y3, 64(DX)(R9*1)
	VMOVUPS      Z4, (DX)(R9*2)
	VMOVUPS      Y5, 64(DX)(R9*2)
	VMOVUPS      Z6, (DX)(R13*1)
	VMOVUPS      Y7, 64(DX)(R13*1)
	ADDQ         $96, AX
	JMP          pcols

p4x32:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ   hd+16(FP), CX

pl32:
	VMOVUPS      (DI), Z8
	VMOVUPS      64(DI), Z9
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R8*1), Z11
	VBROADCASTSS (SI)(R8*2), Z12
	VBROADCASTSS (SI)(R12*1), Z13
	FMA4x32
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          pl32
	VMOVUPS      Z0, (DX)
	VMOVUPS      Z1, 64(DX)
	VMOVUPS      Z2, (DX)(R9*1)
	VMOVUPS      Z3, 64(DX)(R9*1)
	VMOVUPS      Z4, (DX)(R9*2)
	VMOVUPS      Z5, 64(DX)(R9*2)
	VMOVUPS      Z6, (DX)(R13*1)
	VMOVUPS      Z7, 64(DX)(R13*1)
	ADDQ         $128, AX
	JMP          pcols

	// ---- dV += Pᵀ·dO for the group, 16 or 8 columns per pass ----
sback:
	MOVQ ldg+32(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R12
	MOVQ hd+16(FP), R10
	SHLQ $2, R10            // acc row stride in bytes
	MOVQ ld+64(FP), R11
	SHLQ $2, R11            // gradient row stride in bytes
	XORQ AX, AX

dvcols:
	MOVQ R10, CX
	SUBQ AX, CX
	JZ   dvdone
	MOVQ gr+24(FP), SI
	ADDQ AX, SI
	MOVQ dvacc+112(FP), DI
	ADDQ AX, DI
	MOVQ dv+128(FP), DX
	ADDQ AX, DX
	CMPQ CX, $64
	JLT  dv8
	VMOVUPS (SI), Z0
	VMOVUPS (SI)(R8*1), Z2
	VMOVUPS (SI)(R8*2), Z4
	VMOVUPS (SI)(R12*1), Z6
	MOVQ    pp+80(FP), SI
	MOVQ    T+0(FP), CX

dvl16:
	CMPB         first+144(FP), $0
	JEQ          dvld16
	VPXORD       Z8, Z8, Z8
	JMP          dvf16

dvld16:
	VMOVUPS      (DI), Z8

dvf16:
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R9*1), Z11
	VBROADCASTSS (SI)(R9*2), Z12
	VBROADCASTSS (SI)(R13*1), Z13
	VFMADD231PS  Z0, Z10, Z8
	VFMADD231PS  Z2, Z11, Z8
	VFMADD231PS  Z4, Z12, Z8
	VFMADD231PS  Z6, Z13, Z8
	CMPB         last+145(FP), $0
	JNE          dvst16
	VMOVUPS      Z8, (DI)
	JMP          dvn16

dvst16:
	VADDPS       (DX), Z8, Z8
	VMOVUPS      Z8, (DX)

dvn16:
	ADDQ         $4, SI
	ADDQ         R10, DI
	ADDQ         R11, DX
	DECQ         CX
	JNZ          dvl16
	ADDQ         $64, AX
	JMP          dvcols

dv8:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y2
	VMOVUPS (SI)(R8*2), Y4
	VMOVUPS (SI)(R12*1), Y6
	MOVQ    pp+80(FP), SI
	MOVQ    T+0(FP), CX

dvl8:
	CMPB         first+144(FP), $0
	JEQ          dvld8
	VXORPS       Y8, Y8, Y8
	JMP          dvf8

dvld8:
	VMOVUPS      (DI), Y8

dvf8:
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	VFMADD231PS  Y0, Y10, Y8
	VFMADD231PS  Y2, Y11, Y8
	VFMADD231PS  Y4, Y12, Y8
	VFMADD231PS  Y6, Y13, Y8
	CMPB         last+145(FP), $0
	JNE          dvst8
	VMOVUPS      Y8, (DI)
	JMP          dvn8

dvst8:
	VADDPS       (DX), Y8, Y8
	VMOVUPS      Y8, (DX)

dvn8:
	ADDQ         $4, SI
	ADDQ         R10, DI
	ADDQ         R11, DX
	DECQ         CX
	JNZ          dvl8
	ADDQ         $32, AX
	JMP          dvcols

dvdone:
	// ---- dS = P∘(dP - rowsum(P∘dP))*scale in dp (softmaxBackRowsAVX2's
	// 8-lane sums) ----
	MOVQ         pp+80(FP), SI
	MOVQ         dp+88(FP), DI
	MOVQ         tp+8(FP), R8
	SHRQ         $3, R8
	MOVQ         $4, BX
	VBROADCASTSS scale+148(FP), Y15

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

	// ---- dq += dS·K (4 x hd, k = T), 16 or 8 columns per pass ----
	MOVQ hd+16(FP), CX
	CMPQ CX, $16
	JEQ  qk16
	MOVQ ld+64(FP), R8
	SHLQ $2, R8
	MOVQ lddq+104(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
	XORQ AX, AX

qcols:
	MOVQ hd+16(FP), CX
	SHLQ $2, CX
	SUBQ AX, CX
	JZ   qdone
	MOVQ dp+88(FP), SI
	MOVQ k+56(FP), DI
	ADDQ AX, DI
	MOVQ dq+96(FP), DX
	ADDQ AX, DX
	CMPQ CX, $64
	JLT  q4x8
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	VPXORD Z4, Z4, Z4
	VPXORD Z6, Z6, Z6
	MOVQ   T+0(FP), CX

ql16:
	VMOVUPS      (DI), Z8
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R9*1), Z11
	VBROADCASTSS (SI)(R9*2), Z12
	VBROADCASTSS (SI)(R13*1), Z13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ql16
	VADDPS       (DX), Z0, Z0
	VADDPS       (DX)(R10*1), Z2, Z2
	VADDPS       (DX)(R10*2), Z4, Z4
	VADDPS       (DX)(R11*1), Z6, Z6
	VMOVUPS      Z0, (DX)
	VMOVUPS      Z2, (DX)(R10*1)
	VMOVUPS      Z4, (DX)(R10*2)
	VMOVUPS      Z6, (DX)(R11*1)
	ADDQ         $64, AX
	JMP          qcols

q4x8:
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6
	MOVQ   T+0(FP), CX

ql8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	FMA4x8
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ql8
	VADDPS       (DX), Y0, Y0
	VADDPS       (DX)(R10*1), Y2, Y2
	VADDPS       (DX)(R10*2), Y4, Y4
	VADDPS       (DX)(R11*1), Y6, Y6
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y2, (DX)(R10*1)
	VMOVUPS      Y4, (DX)(R10*2)
	VMOVUPS      Y6, (DX)(R11*1)
	ADDQ         $32, AX
	JMP          qcols

qdone:
	// ---- dK += dSᵀ·Q for the group, 16 or 8 columns per pass ----
	MOVQ ldq+48(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R12
	MOVQ hd+16(FP), R10
	SHLQ $2, R10            // acc row stride in bytes
	MOVQ ld+64(FP), R11
	SHLQ $2, R11            // gradient row stride in bytes
	XORQ AX, AX

dkcols:
	MOVQ R10, CX
	SUBQ AX, CX
	JZ   dkdone
	MOVQ q+40(FP), SI
	ADDQ AX, SI
	MOVQ dkacc+120(FP), DI
	ADDQ AX, DI
	MOVQ dk+136(FP), DX
	ADDQ AX, DX
	CMPQ CX, $64
	JLT  dk8
	VMOVUPS (SI), Z0
	VMOVUPS (SI)(R8*1), Z2
	VMOVUPS (SI)(R8*2), Z4
	VMOVUPS (SI)(R12*1), Z6
	MOVQ    dp+88(FP), SI
	MOVQ    T+0(FP), CX

dkl16:
	CMPB         first+144(FP), $0
	JEQ          dkld16
	VPXORD       Z8, Z8, Z8
	JMP          dkf16

dkld16:
	VMOVUPS      (DI), Z8

dkf16:
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R9*1), Z11
	VBROADCASTSS (SI)(R9*2), Z12
	VBROADCASTSS (SI)(R13*1), Z13
	VFMADD231PS  Z0, Z10, Z8
	VFMADD231PS  Z2, Z11, Z8
	VFMADD231PS  Z4, Z12, Z8
	VFMADD231PS  Z6, Z13, Z8
	CMPB         last+145(FP), $0
	JNE          dkst16
	VMOVUPS      Z8, (DI)
	JMP          dkn16

dkst16:
	VADDPS       (DX), Z8, Z8
	VMOVUPS      Z8, (DX)

dkn16:
	ADDQ         $4, SI
	ADDQ         R10, DI
	ADDQ         R11, DX
	DECQ         CX
	JNZ          dkl16
	ADDQ         $64, AX
	JMP          dkcols

dk8:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y2
	VMOVUPS (SI)(R8*2), Y4
	VMOVUPS (SI)(R12*1), Y6
	MOVQ    dp+88(FP), SI
	MOVQ    T+0(FP), CX

dkl8:
	CMPB         first+144(FP), $0
	JEQ          dkld8
	VXORPS       Y8, Y8, Y8
	JMP          dkf8

dkld8:
	VMOVUPS      (DI), Y8

dkf8:
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	VFMADD231PS  Y0, Y10, Y8
	VFMADD231PS  Y2, Y11, Y8
	VFMADD231PS  Y4, Y12, Y8
	VFMADD231PS  Y6, Y13, Y8
	CMPB         last+145(FP), $0
	JNE          dkst8
	VMOVUPS      Y8, (DI)
	JMP          dkn8

dkst8:
	VADDPS       (DX), Y8, Y8
	VMOVUPS      Y8, (DX)

dkn8:
	ADDQ         $4, SI
	ADDQ         R10, DI
	ADDQ         R11, DX
	DECQ         CX
	JNZ          dkl8
	ADDQ         $32, AX
	JMP          dkcols

	// 16-column heads (the default model's): dq and dK in one pass over the
	// keys, sharing the broadcasts of dS, so dq's four FMA chains run beside
	// dK's work instead of alone. Every output's chain is the one of the
	// separate loops above: the same bits.
qk16:
	MOVQ         ldq+48(FP), R8
	SHLQ         $2, R8
	LEAQ         (R8)(R8*2), R12
	MOVQ         q+40(FP), SI
	VMOVUPS      (SI), Z16
	VMOVUPS      (SI)(R8*1), Z17
	VMOVUPS      (SI)(R8*2), Z18
	VMOVUPS      (SI)(R12*1), Z19
	MOVQ         ld+64(FP), R11
	SHLQ         $2, R11                // K and dK rows in bytes
	MOVQ         dp+88(FP), SI
	MOVQ         k+56(FP), DI
	MOVQ         dkacc+120(FP), BX
	MOVQ         dk+136(FP), DX
	VPXORD       Z0, Z0, Z0
	VPXORD       Z2, Z2, Z2
	VPXORD       Z4, Z4, Z4
	VPXORD       Z6, Z6, Z6
	MOVQ         T+0(FP), CX

qkl:
	VMOVUPS      (DI), Z8
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R9*1), Z11
	VBROADCASTSS (SI)(R9*2), Z12
	VBROADCASTSS (SI)(R13*1), Z13
	FMA4x16
	CMPB         first+144(FP), $0
	JEQ          qkld
	VPXORD       Z20, Z20, Z20
	JMP          qkf

qkld:
	VMOVUPS      (BX), Z20

qkf:
	VFMADD231PS  Z16, Z10, Z20
	VFMADD231PS  Z17, Z11, Z20
	VFMADD231PS  Z18, Z12, Z20
	VFMADD231PS  Z19, Z13, Z20
	CMPB         last+145(FP), $0
	JNE          qkst
	VMOVUPS      Z20, (BX)
	JMP          qkn

qkst:
	VADDPS       (DX), Z20, Z20
	VMOVUPS      Z20, (DX)

qkn:
	ADDQ         $4, SI
	ADDQ         R11, DI
	ADDQ         $64, BX
	ADDQ         R11, DX
	DECQ         CX
	JNZ          qkl
	MOVQ         dq+96(FP), DX
	MOVQ         lddq+104(FP), R10
	SHLQ         $2, R10
	LEAQ         (R10)(R10*2), R11
	VADDPS       (DX), Z0, Z0
	VADDPS       (DX)(R10*1), Z2, Z2
	VADDPS       (DX)(R10*2), Z4, Z4
	VADDPS       (DX)(R11*1), Z6, Z6
	VMOVUPS      Z0, (DX)
	VMOVUPS      Z2, (DX)(R10*1)
	VMOVUPS      Z4, (DX)(R10*2)
	VMOVUPS      Z6, (DX)(R11*1)

dkdone:
	VZEROUPPER
	RET
