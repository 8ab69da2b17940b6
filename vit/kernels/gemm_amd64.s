//go:build amd64 && !purego

#include "textflag.h"

// func gemmKernel6x16(kc int, a *float32, ars, acs, ats int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, bias *float32, tiles int)
//
// For each tile t < tiles, computes the 6×16 block of C at rows 6t..6t+5:
//
//	acc[i][j] = sum_{p<kc} A(i,p) * B(p,j)        (p increasing, FMA)
//	C[i][j]   = alpha*acc + bias[j] + beta*C[i][j]
//
// with A(i,p) = a[t*ats + i*ars + p*acs] and B(p,j) = b[p*bs + j]; all
// strides are in floats. bias may be nil (no bias); when beta == ±0, C is
// not read. One kernel serves packed panels (ars=1, acs=6, ats=6*kc; bs=16)
// and unpacked row-major operands (A: ars=lda, acs=1; Aᵀ: ars=1, acs=lda;
// B: bs=ldb), with identical arithmetic per element.
// Accumulators: Y4..Y15 (row i in Y(4+2i), Y(5+2i)).
TEXT ·gemmKernel6x16(SB), NOSPLIT, $0-96
	MOVQ ars+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9   // 3*ars
	LEAQ (R8)(R8*4), R10  // 5*ars
	MOVQ acs+24(FP), R11
	SHLQ $2, R11
	MOVQ ldc+64(FP), R12
	SHLQ $2, R12
	MOVQ bs+48(FP), R13
	SHLQ $2, R13
	MOVQ c+56(FP), DX
	MOVQ tiles+88(FP), BX
	TESTQ BX, BX
	JZ   done

tile:
	MOVQ   a+8(FP), SI
	MOVQ   b+40(FP), DI
	MOVQ   kc+0(FP), CX
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	TESTQ  CX, CX
	JZ     store

loop:
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R8*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS (SI)(R8*2), Y2
	VBROADCASTSS (SI)(R9*1), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y1, Y2, Y9
	VFMADD231PS  Y0, Y3, Y10
	VFMADD231PS  Y1, Y3, Y11
	VBROADCASTSS (SI)(R8*4), Y2
	VBROADCASTSS (SI)(R10*1), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y1, Y2, Y13
	VFMADD231PS  Y0, Y3, Y14
	VFMADD231PS  Y1, Y3, Y15
	ADDQ         R11, SI
	ADDQ         R13, DI
	DECQ         CX
	JNZ          loop

store:
	VBROADCASTSS alpha+72(FP), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y5, Y5
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y7, Y7
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y9, Y9
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y11, Y11
	VMULPS       Y0, Y12, Y12
	VMULPS       Y0, Y13, Y13
	VMULPS       Y0, Y14, Y14
	VMULPS       Y0, Y15, Y15
	MOVQ         bias+80(FP), AX
	TESTQ        AX, AX
	JZ           nobias
	VMOVUPS      (AX), Y2
	VMOVUPS      32(AX), Y3
	VADDPS       Y2, Y4, Y4
	VADDPS       Y3, Y5, Y5
	VADDPS       Y2, Y6, Y6
	VADDPS       Y3, Y7, Y7
	VADDPS       Y2, Y8, Y8
	VADDPS       Y3, Y9, Y9
	VADDPS       Y2, Y10, Y10
	VADDPS       Y3, Y11, Y11
	VADDPS       Y2, Y12, Y12
	VADDPS       Y3, Y13, Y13
	VADDPS       Y2, Y14, Y14
	VADDPS       Y3, Y15, Y15

nobias:
	// AX = row 3 of the tile; rows are (DX), (DX)(R12), (DX)(R12*2), (AX), ...
	LEAQ         (DX)(R12*2), AX
	ADDQ         R12, AX
	MOVL         beta+76(FP), SI
	ANDL         $0x7fffffff, SI
	JZ           storeonly
	VBROADCASTSS beta+76(FP), Y1
	VFMADD231PS  (DX), Y1, Y4
	VFMADD231PS  32(DX), Y1, Y5
	VFMADD231PS  (DX)(R12*1), Y1, Y6
	VFMADD231PS  32(DX)(R12*1), Y1, Y7
	VFMADD231PS  (DX)(R12*2), Y1, Y8
	VFMADD231PS  32(DX)(R12*2), Y1, Y9
	VFMADD231PS  (AX), Y1, Y10
	VFMADD231PS  32(AX), Y1, Y11
	VFMADD231PS  (AX)(R12*1), Y1, Y12
	VFMADD231PS  32(AX)(R12*1), Y1, Y13
	VFMADD231PS  (AX)(R12*2), Y1, Y14
	VFMADD231PS  32(AX)(R12*2), Y1, Y15

storeonly:
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, (DX)(R12*1)
	VMOVUPS Y7, 32(DX)(R12*1)
	VMOVUPS Y8, (DX)(R12*2)
	VMOVUPS Y9, 32(DX)(R12*2)
	VMOVUPS Y10, (AX)
	VMOVUPS Y11, 32(AX)
	VMOVUPS Y12, (AX)(R12*1)
	VMOVUPS Y13, 32(AX)(R12*1)
	VMOVUPS Y14, (AX)(R12*2)
	VMOVUPS Y15, 32(AX)(R12*2)

	// next tile: C down 6 rows, A base += ats.
	LEAQ (AX)(R12*2), DX
	ADDQ R12, DX
	MOVQ ats+32(FP), AX
	SHLQ $2, AX
	ADDQ AX, a+8(FP)
	DECQ BX
	JNZ  tile

done:
	VZEROUPPER
	RET

// func gemmKernel6x8(kc int, a *float32, ars, acs, ats int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, bias *float32, tiles int)
//
// gemmKernel6x16 for tiles 8 columns wide (accumulators Y4, Y6, ..., Y14),
// with the same arithmetic per element.
TEXT ·gemmKernel6x8(SB), NOSPLIT, $0-96
	MOVQ ars+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9   // 3*ars
	LEAQ (R8)(R8*4), R10  // 5*ars
	MOVQ acs+24(FP), R11
	SHLQ $2, R11
	MOVQ ldc+64(FP), R12
	SHLQ $2, R12
	MOVQ bs+48(FP), R13
	SHLQ $2, R13
	MOVQ c+56(FP), DX
	MOVQ tiles+88(FP), BX
	TESTQ BX, BX
	JZ   done8

tile8:
	MOVQ   a+8(FP), SI
	MOVQ   b+40(FP), DI
	MOVQ   kc+0(FP), CX
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6
	VXORPS Y8, Y8, Y8
	VXORPS Y10, Y10, Y10
	VXORPS Y12, Y12, Y12
	VXORPS Y14, Y14, Y14
	TESTQ  CX, CX
	JZ     store8

loop8:
	VMOVUPS      (DI), Y0
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R8*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y0, Y3, Y6
	VBROADCASTSS (SI)(R8*2), Y2
	VBROADCASTSS (SI)(R9*1), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y0, Y3, Y10
	VBROADCASTSS (SI)(R8*4), Y2
	VBROADCASTSS (SI)(R10*1), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y0, Y3, Y14
	ADDQ         R11, SI
	ADDQ         R13, DI
	DECQ         CX
	JNZ          loop8

store8:
	VBROADCASTSS alpha+72(FP), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y12, Y12
	VMULPS       Y0, Y14, Y14
	MOVQ         bias+80(FP), AX
	TESTQ        AX, AX
	JZ           nobias8
	VMOVUPS      (AX), Y2
	VADDPS       Y2, Y4, Y4
	VADDPS       Y2, Y6, Y6
	VADDPS       Y2, Y8, Y8
	VADDPS       Y2, Y10, Y10
	VADDPS       Y2, Y12, Y12
	VADDPS       Y2, Y14, Y14

nobias8:
	// AX = row 3 of the tile; rows are (DX), (DX)(R12), (DX)(R12*2), (AX), ...
	LEAQ         (DX)(R12*2), AX
	ADDQ         R12, AX
	MOVL         beta+76(FP), SI
	ANDL         $0x7fffffff, SI
	JZ           storeonly8
	VBROADCASTSS beta+76(FP), Y1
	VFMADD231PS  (DX), Y1, Y4
	VFMADD231PS  (DX)(R12*1), Y1, Y6
	VFMADD231PS  (DX)(R12*2), Y1, Y8
	VFMADD231PS  (AX), Y1, Y10
	VFMADD231PS  (AX)(R12*1), Y1, Y12
	VFMADD231PS  (AX)(R12*2), Y1, Y14

storeonly8:
	VMOVUPS Y4, (DX)
	VMOVUPS Y6, (DX)(R12*1)
	VMOVUPS Y8, (DX)(R12*2)
	VMOVUPS Y10, (AX)
	VMOVUPS Y12, (AX)(R12*1)
	VMOVUPS Y14, (AX)(R12*2)

	// next tile: C down 6 rows, A base += ats.
	LEAQ (AX)(R12*2), DX
	ADDQ R12, DX
	MOVQ ats+32(FP), AX
	SHLQ $2, AX
	ADDQ AX, a+8(FP)
	DECQ BX
	JNZ  tile8

done8:
	VZEROUPPER
	RET
