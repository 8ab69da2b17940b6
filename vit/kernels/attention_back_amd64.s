//go:build amd64 && !purego

#include "textflag.h"

// The fused attention backward for one group of 4 query rows of a (batch,
// head) pair (see attnBackwardFusedPair). Every element gets exactly the
// arithmetic of the unfused backward (attnBackwardPair): the same FMA
// chains in the same order and softmaxBackRowsAVX2's reduction.

#define HSUM(yr, xr, xt) \
	VEXTRACTF128 $1, yr, xt; \
	VADDPS       xt, xr, xr; \
	VPERMILPS    $0x4e, xr, xt; \
	VADDPS       xt, xr, xr; \
	VPERMILPS    $0xb1, xr, xt; \
	VADDPS       xt, xr, xr

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

// func attnBackGroupAVX2(T, tp, hd int, gr *float32, ldg int, q *float32, ldq int, k *float32, ld int, vt, pp, dp, dq *float32, lddq int, dvacc, dkacc, dv, dk *float32, first, last bool, scale float32)
//
// For the 4 query rows i of the group (dO rows g + i*ldg, Q rows q + i*ldq,
// P rows pp + i*tp padded with zeros to tp; rows past T are zero in g, q
// and pp), with K rows k + j*ld and vt = Vᵀ (hd×tp, zero columns T..tp):
//
//	dP = dO·Vᵀ (into dp, 4×tp) ; dS = P∘(dP - rowsum(P∘dP))*scale (in dp)
//	dq[i] += dS[i]·K                                (rows dq + i*lddq)
//	dV[p] += sum_i P[i][p]*dO[i] ; dK[j] += sum_i dS[i][j]*Q[i]   (p, j < T)
//
// dV and dK accumulate over the groups in dvacc and dkacc (T×hd) as the FMA
// chains of the unfused kernel (rows i in increasing order): the first
// group starts them at zero, the last adds them to the gradient rows
// dv + p*ld and dk + j*ld instead of storing them.
TEXT ·attnBackGroupAVX2(SB), NOSPLIT, $0-152
	MOVQ tp+8(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13  // 3*tp bytes

	// ---- dP = dO·Vᵀ (4 x tp) into dp ----
	MOVQ ldg+32(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R12
	XORQ AX, AX

pcols:
	MOVQ R9, CX
	SUBQ AX, CX
	JZ   sback
	CMPQ CX, $64
	JLT  p4x8
	MOVQ   gr+24(FP), SI
	MOVQ   vt+72(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

pl16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          pl16
	MOVQ         dp+88(FP), DX
	ADDQ         AX, DX
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, 32(DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y3, 32(DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y5, 32(DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	VMOVUPS      Y7, 32(DX)(R13*1)
	ADDQ         $64, AX
	JMP          pcols

p4x8:
	MOVQ   gr+24(FP), SI
	MOVQ   vt+72(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

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
	MOVQ         dp+88(FP), DX
	ADDQ         AX, DX
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	ADDQ         $32, AX
	JMP          pcols

	// ---- dV += Pᵀ·dO for the group (before dp is overwritten: it does
	// not read dp, the order is free) ----
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
	CMPQ CX, $64
	JLT  dv8
	MOVQ    gr+24(FP), SI
	ADDQ    AX, SI
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (SI)(R8*1), Y2
	VMOVUPS 32(SI)(R8*1), Y3
	VMOVUPS (SI)(R8*2), Y4
	VMOVUPS 32(SI)(R8*2), Y5
	VMOVUPS (SI)(R12*1), Y6
	VMOVUPS 32(SI)(R12*1), Y7
	MOVQ    pp+80(FP), SI
	MOVQ    dvacc+112(FP), DI
	ADDQ    AX, DI
	MOVQ    dv+128(FP), DX
	ADDQ    AX, DX
	MOVQ    T+0(FP), CX

dvl16:
	CMPB         first+144(FP), $0
	JEQ          dvld16
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	JMP          dvf16

dvld16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9

dvf16:
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	VFMADD231PS  Y0, Y10, Y8
	VFMADD231PS  Y1, Y10, Y9
	VFMADD231PS  Y2, Y11, Y8
	VFMADD231PS  Y3, Y11, Y9
	VFMADD231PS  Y4, Y12, Y8
	VFMADD231PS  Y5, Y12, Y9
	VFMADD231PS  Y6, Y13, Y8
	VFMADD231PS  Y7, Y13, Y9
	CMPB         last+145(FP), $0
	JNE          dvst16
	VMOVUPS      Y8, (DI)
	VMOVUPS      Y9, 32(DI)
	JMP          dvn16

dvst16:
	VADDPS       (DX), Y8, Y8
	VADDPS       32(DX), Y9, Y9
	VMOVUPS      Y8, (DX)
	VMOVUPS      Y9, 32(DX)

dvn16:
	ADDQ         $4, SI
	ADDQ         R10, DI
	ADDQ         R11, DX
	DECQ         CX
	JNZ          dvl16
	ADDQ         $64, AX
	JMP          dvcols

dv8:
	MOVQ    gr+24(FP), SI
	ADDQ    AX, SI
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y2
	VMOVUPS (SI)(R8*2), Y4
	VMOVUPS (SI)(R12*1), Y6
	MOVQ    pp+80(FP), SI
	MOVQ    dvacc+112(FP), DI
	ADDQ    AX, DI
	MOVQ    dv+128(FP), DX
	ADDQ    AX, DX
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
	// ---- dS = P∘(dP - rowsum(P∘dP))*scale in dp (softmaxBackRowsAVX2) ----
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

	// ---- dq += dS·K (4 x hd, k = T) ----
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
	CMPQ CX, $64
	JLT  q4x8
	MOVQ   dp+88(FP), SI
	MOVQ   k+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

ql16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ql16
	MOVQ         dq+96(FP), DX
	ADDQ         AX, DX
	VADDPS       (DX), Y0, Y0
	VADDPS       32(DX), Y1, Y1
	VADDPS       (DX)(R10*1), Y2, Y2
	VADDPS       32(DX)(R10*1), Y3, Y3
	VADDPS       (DX)(R10*2), Y4, Y4
	VADDPS       32(DX)(R10*2), Y5, Y5
	VADDPS       (DX)(R11*1), Y6, Y6
	VADDPS       32(DX)(R11*1), Y7, Y7
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, 32(DX)
	VMOVUPS      Y2, (DX)(R10*1)
	VMOVUPS      Y3, 32(DX)(R10*1)
	VMOVUPS      Y4, (DX)(R10*2)
	VMOVUPS      Y5, 32(DX)(R10*2)
	VMOVUPS      Y6, (DX)(R11*1)
	VMOVUPS      Y7, 32(DX)(R11*1)
	ADDQ         $64, AX
	JMP          qcols

q4x8:
	MOVQ   dp+88(FP), SI
	MOVQ   k+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

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
	MOVQ         dq+96(FP), DX
	ADDQ         AX, DX
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
	// ---- dK += dSᵀ·Q for the group ----
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
	CMPQ CX, $64
	JLT  dk8
	MOVQ    q+40(FP), SI
	ADDQ    AX, SI
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (SI)(R8*1), Y2
	VMOVUPS 32(SI)(R8*1), Y3
	VMOVUPS (SI)(R8*2), Y4
	VMOVUPS 32(SI)(R8*2), Y5
	VMOVUPS (SI)(R12*1), Y6
	VMOVUPS 32(SI)(R12*1), Y7
	MOVQ    dp+88(FP), SI
	MOVQ    dkacc+120(FP), DI
	ADDQ    AX, DI
	MOVQ    dk+136(FP), DX
	ADDQ    AX, DX
	MOVQ    T+0(FP), CX

dkl16:
	CMPB         first+144(FP), $0
	JEQ          dkld16
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	JMP          dkf16

dkld16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9

dkf16:
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	VFMADD231PS  Y0, Y10, Y8
	VFMADD231PS  Y1, Y10, Y9
	VFMADD231PS  Y2, Y11, Y8
	VFMADD231PS  Y3, Y11, Y9
	VFMADD231PS  Y4, Y12, Y8
	VFMADD231PS  Y5, Y12, Y9
	VFMADD231PS  Y6, Y13, Y8
	VFMADD231PS  Y7, Y13, Y9
	CMPB         last+145(FP), $0
	JNE          dkst16
	VMOVUPS      Y8, (DI)
	VMOVUPS      Y9, 32(DI)
	JMP          dkn16

dkst16:
	VADDPS       (DX), Y8, Y8
	VADDPS       32(DX), Y9, Y9
	VMOVUPS      Y8, (DX)
	VMOVUPS      Y9, 32(DX)

dkn16:
	ADDQ         $4, SI
	ADDQ         R10, DI
	ADDQ         R11, DX
	DECQ         CX
	JNZ          dkl16
	ADDQ         $64, AX
	JMP          dkcols

dk8:
	MOVQ    q+40(FP), SI
	ADDQ    AX, SI
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y2
	VMOVUPS (SI)(R8*2), Y4
	VMOVUPS (SI)(R12*1), Y6
	MOVQ    dp+88(FP), SI
	MOVQ    dkacc+120(FP), DI
	ADDQ    AX, DI
	MOVQ    dk+136(FP), DX
	ADDQ    AX, DX
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

dkdone:
	VZEROUPPER
	RET
