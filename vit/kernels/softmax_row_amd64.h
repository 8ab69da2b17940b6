// One row's softmax on 8 lanes, in place (softmaxRowsAVX2, math_amd64.s,
// and attnFusedAVX2's 4 rows include it): the row at DI, R11 chunks of 8
// floats; s = exp(s - max(s)) / sum(exp(s - max(s))), the max and the sum
// reduced over the chunks in order, then across the 8 lanes in one fixed
// tree. Leaves AX just past the row; clobbers CX, Y0-Y15 (EXPZ's
// temporaries among them).

	VMOVUPS (DI), Y1
	MOVQ    DI, AX
	MOVQ    R11, CX
	DECQ    CX
	JZ      shmax

smax:
	ADDQ   $32, AX
	VMAXPS (AX), Y1, Y1
	DECQ   CX
	JNZ    smax

shmax:
	VEXTRACTF128 $1, Y1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0x4e, X1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0xb1, X1, X2
	VMAXPS       X2, X1, X1
	VBROADCASTSS X1, Y15
	VXORPS       Y12, Y12, Y12
	MOVQ         DI, AX
	MOVQ         R11, CX

sexp:
	VMOVUPS (AX), Y0
	VSUBPS  Y15, Y0, Y0
	EXPZ(Y0, Y8)
	VMOVUPS Y8, (AX)
	VADDPS  Y8, Y12, Y12
	ADDQ    $32, AX
	DECQ    CX
	JNZ     sexp

	VEXTRACTF128 $1, Y12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0x4e, X12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0xb1, X12, X13
	VADDPS       X13, X12, X12
	VMOVSS       K_one, X13
	VDIVSS       X12, X13, X13
	VBROADCASTSS X13, Y13
	MOVQ         DI, AX
	MOVQ         R11, CX

snorm:
	VMULPS  (AX), Y13, Y0
	VMOVUPS Y0, (AX)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     snorm
