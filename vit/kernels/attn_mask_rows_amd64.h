// The padding mask of the fused attention forward (attnFusedAVX2,
// attnFusedAVX512, attnFused16AVX512 include it): score columns T..tp-1 of
// BX groups of 4 rows of the scratch s (row stride R9 bytes, R13 = 3*R9)
// := -Inf, by a blend in each row's last 8 columns (a vector store, so the
// softmax's loads that follow are forwarded). Clobbers CX, DX, BX, Y0-Y3,
// Y14, Y15; goes on at maskdone.

	MOVQ         tp+16(FP), CX
	SUBQ         T+8(FP), CX
	JZ           maskdone
	LEAQ         attnMask<>(SB), DX
	VMOVUPS      (DX)(CX*4), Y14
	VBROADCASTSS K_neginf, Y15
	MOVQ         s+88(FP), DX
	ADDQ         R9, DX
	SUBQ         $32, DX          // last 8 columns of row 0

maskrows:
	VMOVUPS   (DX), Y0
	VMOVUPS   (DX)(R9*1), Y1
	VMOVUPS   (DX)(R9*2), Y2
	VMOVUPS   (DX)(R13*1), Y3
	VBLENDVPS Y14, Y15, Y0, Y0
	VBLENDVPS Y14, Y15, Y1, Y1
	VBLENDVPS Y14, Y15, Y2, Y2
	VBLENDVPS Y14, Y15, Y3, Y3
	VMOVUPS   Y0, (DX)
	VMOVUPS   Y1, (DX)(R9*1)
	VMOVUPS   Y2, (DX)(R9*2)
	VMOVUPS   Y3, (DX)(R13*1)
	LEAQ      (DX)(R9*4), DX
	DECQ      BX
	JNZ       maskrows

maskdone:
