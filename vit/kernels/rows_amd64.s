//go:build amd64 && !purego

#include "textflag.h"

// func rowsGemmAVX2(m, n, k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, acc bool)
//
// For i < m and j < n (n a positive multiple of 8, m and k positive):
//   t = sum_{p<k} a[i*ars + p*acs] * b[p*ldb + j]   (p in increasing order)
//   c[i*ldc + j] = alpha*t + (acc ? c[i*ldc+j] : 0)
// Rows go in blocks of 4 (then singly), columns in blocks of 16 (then 8).
// a+24(FP) and c+64(FP) are advanced in place as the row cursor.
TEXT ·rowsGemmAVX2(SB), NOSPLIT, $0-85
	MOVQ ars+32(FP), R8
	SHLQ $2, R8
	MOVQ acs+40(FP), R9
	SHLQ $2, R9
	MOVQ ldb+56(FP), R10
	SHLQ $2, R10
	MOVQ ldc+72(FP), R11
	SHLQ $2, R11
	LEAQ (R8)(R8*2), R12  // 3*ars bytes
	LEAQ (R11)(R11*2), R13 // 3*ldc bytes
	MOVQ n+8(FP), AX
	SHLQ $2, AX
	MOVQ AX, n+8(FP)       // n in bytes from here on
	MOVQ m+0(FP), BX

rows4:
	CMPQ BX, $4
	JLT  rows1
	XORQ AX, AX            // column offset in bytes

cols4:
	MOVQ n+8(FP), CX
	SUBQ AX, CX
	JZ   next4
	CMPQ CX, $64
	JLT  k4x8

	// ---- 4 rows x 16 columns ----
	MOVQ   a+24(FP), SI
	MOVQ   b+48(FP), DI
	ADDQ   AX, DI
	MOVQ   k+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

l4x16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         R9, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          l4x16

	MOVQ         c+64(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS alpha+80(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y1, Y1
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y3, Y3
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y5, Y5
	VMULPS       Y8, Y6, Y6
	VMULPS       Y8, Y7, Y7
	CMPB         acc+84(FP), $0
	JEQ          s4x16
	VADDPS       (DX), Y0, Y0
	VADDPS       32(DX), Y1, Y1
	VADDPS       (DX)(R11*1), Y2, Y2
	VADDPS       32(DX)(R11*1), Y3, Y3
	VADDPS       (DX)(R11*2), Y4, Y4
	VADDPS       32(DX)(R11*2), Y5, Y5
	VADDPS       (DX)(R13*1), Y6, Y6
	VADDPS       32(DX)(R13*1), Y7, Y7

s4x16:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (DX)(R11*1)
	VMOVUPS Y3, 32(DX)(R11*1)
	VMOVUPS Y4, (DX)(R11*2)
	VMOVUPS Y5, 32(DX)(R11*2)
	VMOVUPS Y6, (DX)(R13*1)
	VMOVUPS Y7, 32(DX)(R13*1)
	ADDQ    $64, AX
	JMP     cols4

	// ---- 4 rows x 8 columns ----
k4x8:
	MOVQ   a+24(FP), SI
	MOVQ   b+48(FP), DI
	ADDQ   AX, DI
	MOVQ   k+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

l4x8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y8, Y13, Y6
	ADDQ         R9, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          l4x8

	MOVQ         c+64(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS alpha+80(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y6, Y6
	CMPB         acc+84(FP), $0
	JEQ          s4x8
	VADDPS       (DX), Y0, Y0
	VADDPS       (DX)(R11*1), Y2, Y2
	VADDPS       (DX)(R11*2), Y4, Y4
	VADDPS       (DX)(R13*1), Y6, Y6

s4x8:
	VMOVUPS Y0, (DX)
	VMOVUPS Y2, (DX)(R11*1)
	VMOVUPS Y4, (DX)(R11*2)
	VMOVUPS Y6, (DX)(R13*1)
	ADDQ    $32, AX
	JMP     cols4

next4:
	MOVQ a+24(FP), SI
	LEAQ (SI)(R8*4), SI
	MOVQ SI, a+24(FP)
	MOVQ c+64(FP), DX
	LEAQ (DX)(R11*4), DX
	MOVQ DX, c+64(FP)
	SUBQ $4, BX
	JMP  rows4

rows1:
	TESTQ BX, BX
	JZ    done
	XORQ  AX, AX

cols1:
	MOVQ n+8(FP), CX
	SUBQ AX, CX
	JZ   next1
	CMPQ CX, $64
	JLT  k1x8

	// ---- 1 row x 16 columns ----
	MOVQ   a+24(FP), SI
	MOVQ   b+48(FP), DI
	ADDQ   AX, DI
	MOVQ   k+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

l1x16:
	VBROADCASTSS (SI), Y10
	VFMADD231PS  (DI), Y10, Y0
	VFMADD231PS  32(DI), Y10, Y1
	ADDQ         R9, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          l1x16

	MOVQ         c+64(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS alpha+80(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y1, Y1
	CMPB         acc+84(FP), $0
	JEQ          s1x16
	VADDPS       (DX), Y0, Y0
	VADDPS       32(DX), Y1, Y1

s1x16:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    $64, AX
	JMP     cols1

	// ---- 1 row x 8 columns ----
k1x8:
	MOVQ   a+24(FP), SI
	MOVQ   b+48(FP), DI
	ADDQ   AX, DI
	MOVQ   k+16(FP), CX
	VXORPS Y0, Y0, Y0

l1x8:
	VBROADCASTSS (SI), Y10
	VFMADD231PS  (DI), Y10, Y0
	ADDQ         R9, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          l1x8

	MOVQ         c+64(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS alpha+80(FP), Y8
	VMULPS       Y8, Y0, Y0
	CMPB         acc+84(FP), $0
	JEQ          s1x8
	VADDPS       (DX), Y0, Y0

s1x8:
	VMOVUPS Y0, (DX)
	ADDQ    $32, AX
	JMP     cols1

next1:
	MOVQ a+24(FP), SI
	ADDQ R8, SI
	MOVQ SI, a+24(FP)
	MOVQ c+64(FP), DX
	ADDQ R11, DX
	MOVQ DX, c+64(FP)
	DECQ BX
	JMP  rows1

done:
	VZEROUPPER
	RET
