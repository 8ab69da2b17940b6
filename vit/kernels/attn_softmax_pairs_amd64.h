// The softmax of the AVX-512 fused attention forward (attnFusedAVX512,
// attnFused16AVX512), included by both: DX pairs of rows of the score
// scratch from DI (row stride R9 bytes, R11 8-lane chunks per row) in
// place. Two rows per ZMM: row r0+2i in the low 8 lanes, r0+2i+1 in the
// high 8, so each row keeps softmaxRowsAVX2's 8-lane reductions. Needs Z16
// = +0 and Z17 = attnPairIdx; leaves DI past the rows and DX at 0; clobbers
// AX, CX, Z0-Z15, K1.

spair:
	VMOVUPS      (DI), Y1
	VINSERTF64X4 $1, (DI)(R9*1), Z1, Z1
	MOVQ         DI, AX
	MOVQ         R11, CX
	DECQ         CX
	JZ           shmax

smax:
	ADDQ         $32, AX
	VMOVUPS      (AX), Y2
	VINSERTF64X4 $1, (AX)(R9*1), Z2, Z2
	VMAXPS       Z2, Z1, Z1
	DECQ         CX
	JNZ          smax

shmax:
	VSHUFF32X4 $0xb1, Z1, Z1, Z2 // each half's 128-bit lanes swapped
	VMAXPS     Z2, Z1, Z1
	VPERMILPS  $0x4e, Z1, Z2
	VMAXPS     Z2, Z1, Z1
	VPERMILPS  $0xb1, Z1, Z2
	VMAXPS     Z2, Z1, Z1
	VPERMPS    Z1, Z17, Z15      // lane 0 to the low half, lane 8 to the high
	VPXORD     Z12, Z12, Z12
	MOVQ       DI, AX
	MOVQ       R11, CX

sexp:
	VMOVUPS       (AX), Y0
	VINSERTF64X4  $1, (AX)(R9*1), Z0, Z0
	VSUBPS        Z15, Z0, Z0
	EXPZ16(Z0, Z8)
	VMOVUPS       Y8, (AX)
	VEXTRACTF64X4 $1, Z8, (AX)(R9*1)
	VADDPS        Z8, Z12, Z12
	ADDQ          $32, AX
	DECQ          CX
	JNZ           sexp

	VSHUFF32X4   $0xb1, Z12, Z12, Z13
	VADDPS       Z13, Z12, Z12
	VPERMILPS    $0x4e, Z12, Z13
	VADDPS       Z13, Z12, Z12
	VPERMILPS    $0xb1, Z12, Z13
	VADDPS       Z13, Z12, Z12
	VBROADCASTSS K_one, Z13
	VDIVPS       Z12, Z13, Z13
	VPERMPS      Z13, Z17, Z13
	MOVQ         DI, AX
	MOVQ         R11, CX

snorm:
	VMOVUPS       (AX), Y0
	VINSERTF64X4  $1, (AX)(R9*1), Z0, Z0
	VMULPS        Z0, Z13, Z0
	VMOVUPS       Y0, (AX)
	VEXTRACTF64X4 $1, Z0, (AX)(R9*1)
	ADDQ          $32, AX
	DECQ          CX
	JNZ           snorm

	LEAQ (DI)(R9*2), DI
	DECQ DX
	JNZ  spair
