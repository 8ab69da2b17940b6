//go:build amd64 && !purego

#include "textflag.h"

// AdamW update kernels (see AdamWStep). Each lane does adamWStepGo's float32
// operations in its order, without FMA contraction; where both operands of
// an operation can be NaN the first source is the one the Go compiler puts
// first, so even the NaN passed on is the same.
// p points at adamWParams: b1, 1-b1, b2, 1-b2, stepSize, invC2, eps, shrink.

// func adamWStepAVX2(w, grad, m, v *float32, n int, p *adamWParams)   // n % 8 == 0
TEXT ·adamWStepAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ p+40(FP), AX
	SHRQ $3, CX
	JZ   ydone
	VBROADCASTSS 0(AX), Y0  // b1
	VBROADCASTSS 4(AX), Y1  // 1-b1
	VBROADCASTSS 8(AX), Y2  // b2
	VBROADCASTSS 12(AX), Y3 // 1-b2
	VBROADCASTSS 16(AX), Y4 // stepSize
	VBROADCASTSS 20(AX), Y5 // invC2
	VBROADCASTSS 24(AX), Y6 // eps
	VBROADCASTSS 28(AX), Y7 // shrink

yloop:
	VMOVUPS (SI), Y8
	VMULPS  (DX), Y0, Y9    // b1*m
	VMULPS  Y8, Y1, Y10     // (1-b1)*g
	VADDPS  Y9, Y10, Y10    // m = (1-b1)*g + b1*m
	VMOVUPS Y10, (DX)
	VMULPS  (R8), Y2, Y11   // b2*v
	VMULPS  Y8, Y3, Y12     // (1-b2)*g
	VMULPS  Y12, Y8, Y12    // g*((1-b2)*g)
	VADDPS  Y11, Y12, Y12   // v = (1-b2)*g*g + b2*v
	VMOVUPS Y12, (R8)
	VMULPS  Y5, Y12, Y12    // v*invC2
	VSQRTPS Y12, Y12
	VADDPS  Y6, Y12, Y12    // denom = sqrt(v*invC2) + eps
	VMULPS  Y4, Y10, Y10    // m*stepSize
	VDIVPS  Y12, Y10, Y10   // m*stepSize / denom
	VMOVUPS (DI), Y13
	VMULPS  Y7, Y13, Y13    // w*shrink
	VSUBPS  Y10, Y13, Y13   // w -= m*stepSize / denom
	VMOVUPS Y13, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	DECQ    CX
	JNZ     yloop

ydone:
	VZEROUPPER
	RET

// func adamWStepAVX512(w, grad, m, v *float32, n int, p *adamWParams)   // n % 16 == 0
TEXT ·adamWStepAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ p+40(FP), AX
	SHRQ $4, CX
	JZ   zdone
	VBROADCASTSS 0(AX), Z0  // b1
	VBROADCASTSS 4(AX), Z1  // 1-b1
	VBROADCASTSS 8(AX), Z2  // b2
	VBROADCASTSS 12(AX), Z3 // 1-b2
	VBROADCASTSS 16(AX), Z4 // stepSize
	VBROADCASTSS 20(AX), Z5 // invC2
	VBROADCASTSS 24(AX), Z6 // eps
	VBROADCASTSS 28(AX), Z7 // shrink

zloop:
	VMOVUPS (SI), Z8
	VMULPS  (DX), Z0, Z9    // b1*m
	VMULPS  Z8, Z1, Z10     // (1-b1)*g
	VADDPS  Z9, Z10, Z10    // m = (1-b1)*g + b1*m
	VMOVUPS Z10, (DX)
	VMULPS  (R8), Z2, Z11   // b2*v
	VMULPS  Z8, Z3, Z12     // (1-b2)*g
	VMULPS  Z12, Z8, Z12    // g*((1-b2)*g)
	VADDPS  Z11, Z12, Z12   // v = (1-b2)*g*g + b2*v
	VMOVUPS Z12, (R8)
	VMULPS  Z5, Z12, Z12    // v*invC2
	VSQRTPS Z12, Z12
	VADDPS  Z6, Z12, Z12    // denom = sqrt(v*invC2) + eps
	VMULPS  Z4, Z10, Z10    // m*stepSize
	VDIVPS  Z12, Z10, Z10   // m*stepSize / denom
	VMOVUPS (DI), Z13
	VMULPS  Z7, Z13, Z13    // w*shrink
	VSUBPS  Z10, Z13, Z13   // w -= m*stepSize / denom
	VMOVUPS Z13, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, R8
	ADDQ    $64, DI
	DECQ    CX
	JNZ     zloop

zdone:
	VZEROUPPER
	RET
