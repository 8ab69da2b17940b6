// The probs copy of the fused attention forward (attnFusedAVX2,
// attnFusedAVX512, attnFused16AVX512 include it): DX rows of T floats from
// the score scratch at SI (row stride R9 bytes) to the probs rows at DI
// (stride T). Leaves SI and DI past the rows and DX at 0; clobbers AX, BX,
// CX, Y0.

prow:
	MOVQ T+8(FP), CX
	XORQ AX, AX

p8:
	CMPQ    CX, $8
	JLT     p1
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, CX
	JMP     p8

p1:
	TESTQ CX, CX
	JZ    pnext
	MOVL  (SI)(AX*1), BX
	MOVL  BX, (DI)(AX*1)
	ADDQ  $4, AX
	DECQ  CX
	JMP   p1

pnext:
	ADDQ R9, SI
	ADDQ AX, DI
	DECQ DX
	JNZ  prow
