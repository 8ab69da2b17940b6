// The body of attnFusedAVX2 and attnFusedAVX512 (attention_amd64.s), one
// source for both: attention_amd64.s includes it once per function, the
// second time with ATTN_FUSED_WIDE defined, which adds the AVX-512 parts
// (the 4×32 product blocks, the softmax two rows per ZMM register);
// everything outside the ATTN_FUSED_WIDE blocks is the same code in both.
// go vet's asmdecl does not read included files: the argument offsets here
// are those of the two functions' one signature, and the tests call both.

#ifdef ATTN_FUSED_WIDE
	VPXORD    Z16, Z16, Z16       // +0: the 16-lane exp's underflow lanes
	VMOVDQU32 attnPairIdx<>(SB), Z17
#endif
	MOVQ ld+40(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R12  // 3*ld bytes
	MOVQ tp+16(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13  // 3*tp bytes
	MOVQ ldo+72(FP), R10
	SHLQ $2, R10
	XORQ R14, R14         // r0: first row of the group

group:
	// ---- S = scale * Q·Kᵀ for rows r0..r0+3 into s ----
	MOVQ  R14, BX
	IMULQ R8, BX
	ADDQ  q+32(FP), BX
	XORQ  AX, AX          // column offset in bytes

scols:
	MOVQ R9, CX
	SUBQ AX, CX
	JZ   smask
#ifdef ATTN_FUSED_WIDE
	CMPQ CX, $128
	JGE  s4x32
#endif
	CMPQ CX, $64
	JLT  s4x8
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

sl16:
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
	JNZ          sl16

	MOVQ         s+88(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+96(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y1, Y1
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y3, Y3
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y5, Y5
	VMULPS       Y8, Y6, Y6
	VMULPS       Y8, Y7, Y7
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, 32(DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y3, 32(DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y5, 32(DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	VMOVUPS      Y7, 32(DX)(R13*1)
	ADDQ         $64, AX
#ifdef ATTN_FUSED_WIDE
	JMP          scols

s4x32:
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

sl32:
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
	JNZ          sl32

	MOVQ         s+88(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+96(FP), Z8
	VMULPS       Z8, Z0, Z0
	VMULPS       Z8, Z1, Z1
	VMULPS       Z8, Z2, Z2
	VMULPS       Z8, Z3, Z3
	VMULPS       Z8, Z4, Z4
	VMULPS       Z8, Z5, Z5
	VMULPS       Z8, Z6, Z6
	VMULPS       Z8, Z7, Z7
	VMOVUPS      Z0, (DX)
	VMOVUPS      Z1, 64(DX)
	VMOVUPS      Z2, (DX)(R9*1)
	VMOVUPS      Z3, 64(DX)(R9*1)
	VMOVUPS      Z4, (DX)(R9*2)
	VMOVUPS      Z5, 64(DX)(R9*2)
	VMOVUPS      Z6, (DX)(R13*1)
	VMOVUPS      Z7, 64(DX)(R13*1)
	ADDQ         $128, AX
#endif
	JMP          scols

s4x8:
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

sl8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	FMA4x8
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          sl8

	MOVQ         s+88(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+96(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y6, Y6
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	ADDQ         $32, AX
	JMP          scols

	// ---- padding columns T..tp-1 := -Inf ----
smask:
	MOVQ $1, BX
#include "attn_mask_rows_amd64.h"

	// ---- softmax of the 4 rows (softmaxRowsAVX2's arithmetic) ----
	MOVQ s+88(FP), DI
	MOVQ tp+16(FP), R11
	SHRQ $3, R11
#ifdef ATTN_FUSED_WIDE
	MOVQ $2, DX

#include "attn_softmax_pairs_amd64.h"
#else
	MOVQ $4, DX

srow:
#include "softmax_row_amd64.h"

	MOVQ AX, DI
	DECQ DX
	JNZ  srow
#endif

	// ---- probs rows r0..r0+3 (T floats each) ----
	MOVQ  probs+80(FP), DI
	TESTQ DI, DI
	JZ    pv
	MOVQ  T+8(FP), BX
	IMULQ R14, BX
	LEAQ  (DI)(BX*4), DI
	MOVQ  s+88(FP), SI
	MOVQ  $4, DX

#include "attn_probs_rows_amd64.h"

	// ---- O = P·V for rows r0..r0+3 ----
pv:
	MOVQ  R14, BX
	IMULQ R10, BX
	ADDQ  out+64(FP), BX
	LEAQ  (R10)(R10*2), R11 // 3*ldo bytes
	XORQ  AX, AX

ocols:
	MOVQ hd+24(FP), CX
	SHLQ $2, CX
	SUBQ AX, CX
	JZ   next
#ifdef ATTN_FUSED_WIDE
	CMPQ CX, $128
	JGE  o4x32
#endif
	CMPQ CX, $64
	JLT  o4x8
	MOVQ   s+88(FP), SI
	MOVQ   v+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

ol16:
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
	JNZ          ol16

	LEAQ    (BX)(AX*1), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (DX)(R10*1)
	VMOVUPS Y3, 32(DX)(R10*1)
	VMOVUPS Y4, (DX)(R10*2)
	VMOVUPS Y5, 32(DX)(R10*2)
	VMOVUPS Y6, (DX)(R11*1)
	VMOVUPS Y7, 32(DX)(R11*1)
	ADDQ    $64, AX
#ifdef ATTN_FUSED_WIDE
	JMP     ocols

o4x32:
	MOVQ   s+88(FP), SI
	MOVQ   v+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

ol32:
	VMOVUPS      (DI), Z8
	VMOVUPS      64(DI), Z9
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R9*1), Z11
	VBROADCASTSS (SI)(R9*2), Z12
	VBROADCASTSS (SI)(R13*1), Z13
	FMA4x32
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ol32

	LEAQ    (BX)(AX*1), DX
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, (DX)(R10*1)
	VMOVUPS Z3, 64(DX)(R10*1)
	VMOVUPS Z4, (DX)(R10*2)
	VMOVUPS Z5, 64(DX)(R10*2)
	VMOVUPS Z6, (DX)(R11*1)
	VMOVUPS Z7, 64(DX)(R11*1)
	ADDQ    $128, AX
#endif
	JMP     ocols

o4x8:
	MOVQ   s+88(FP), SI
	MOVQ   v+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

ol8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	FMA4x8
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ol8

	LEAQ    (BX)(AX*1), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y2, (DX)(R10*1)
	VMOVUPS Y4, (DX)(R10*2)
	VMOVUPS Y6, (DX)(R11*1)
	ADDQ    $32, AX
	JMP     ocols

next:
	ADDQ $4, R14
	MOVQ m+0(FP), CX
	CMPQ R14, CX
	JGE  done
	SUBQ $4, CX
	CMPQ R14, CX
	JLE  group
	MOVQ CX, R14
	JMP  group

done:
	VZEROUPPER
	RET
