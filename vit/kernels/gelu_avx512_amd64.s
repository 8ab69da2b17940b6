//go:build amd64 && !purego

#include "textflag.h"

// geluBackwardAVX2 (math_amd64.s) on 16 lanes: the same operations in the
// same order on every lane, so every element gets the same bits. The
// constants are ·geluC's (exp_amd64.h), their first lane broadcast by the
// instructions.

#include "exp_amd64.h"

// PHIZ is math_amd64.s's PHI on Z0 (x) -> Z12 (Phi(x)), with Z2 = t,
// Z4+Z5 = z*z and the same temporaries; its final blend on the sign of x
// goes through K1.
#define PHIZ \
	VANDPS.BCST       K_absmask, Z0, Z1; \
	VMINPS.BCST       K_xhi, Z1, Z1; \
	VMULPS            Z1, Z1, Z4; \
	VMOVAPS           Z1, Z5; \
	VFMSUB213PS       Z4, Z1, Z5; \
	VMULPS.BCST       K_half, Z4, Z4; \
	VMULPS.BCST       K_half, Z5, Z5; \
	VMULPS.BCST       K_invsqrt2, Z1, Z1; \
	VBROADCASTSS      K_half, Z2; \
	VFMADD213PS.BCST  K_one, Z1, Z2; \
	VBROADCASTSS      K_one, Z3; \
	VDIVPS            Z2, Z3, Z2; \
	VMULPS            Z2, Z2, Z3; \
	VBROADCASTSS      K_p9, Z8; \
	VFMADD213PS.BCST  K_p8, Z2, Z8; \
	VBROADCASTSS      K_p7, Z9; \
	VFMADD213PS.BCST  K_p6, Z2, Z9; \
	VBROADCASTSS      K_p5, Z10; \
	VFMADD213PS.BCST  K_p4, Z2, Z10; \
	VBROADCASTSS      K_p3, Z11; \
	VFMADD213PS.BCST  K_p2, Z2, Z11; \
	VBROADCASTSS      K_p1, Z12; \
	VFMADD213PS.BCST  K_p0, Z2, Z12; \
	VFMADD231PS       Z9, Z3, Z10; \
	VFMADD231PS       Z11, Z3, Z12; \
	VMULPS            Z3, Z3, Z13; \
	VFMADD231PS       Z10, Z13, Z12; \
	VMULPS            Z13, Z13, Z13; \
	VFMADD231PS       Z8, Z13, Z12; \
	VSUBPS            Z5, Z12, Z3; \
	VSUBPS            Z4, Z3, Z6; \
	VMULPS.BCST       K_log2e, Z6, Z6; \
	VRNDSCALEPS       $0, Z6, Z6; \
	VMAXPS.BCST       K_nmin, Z6, Z6; \
	VMOVAPS           Z4, Z7; \
	VFNMSUB231PS.BCST K_c1, Z6, Z7; \
	VADDPS            Z3, Z7, Z7; \
	VFNMADD231PS.BCST K_c2, Z6, Z7; \
	EXPPOLY16(Z7, Z8, Z9, Z13, Z14); \
	VCVTPS2DQ         Z6, Z10; \
	VPADDD.BCST       K_bias127, Z10, Z10; \
	VPSLLD            $23, Z10, Z10; \
	VMULPS            Z10, Z8, Z8; \
	VMULPS            Z2, Z8, Z8; \
	VMULPS.BCST       K_half, Z8, Z8; \
	VBROADCASTSS      K_one, Z11; \
	VSUBPS            Z8, Z11, Z11; \
	VPMOVD2M          Z0, K1; \
	VMOVAPS           Z11, Z12; \
	VMOVAPS           Z8, K1, Z12

// func geluBackwardAVX512(dinp, inp, dout *float32, n int)
// dinp += gelu'(inp)*dout; n must be a positive multiple of 16.
TEXT ·geluBackwardAVX512(SB), NOSPLIT, $0-32
	MOVQ dinp+0(FP), DI
	MOVQ inp+8(FP), SI
	MOVQ dout+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JZ   zbdone

zbloop:
	VMOVUPS (SI), Z0
	PHIZ

	// E1 = exp(-(zz+zlo)): m = round(zz*log2e), r = (m*c1 - zz) - zlo + m*c2
	VMULPS.BCST      K_log2e, Z4, Z6
	VRNDSCALEPS      $0, Z6, Z6
	VMOVAPS          Z4, Z7
	VFMSUB231PS.BCST K_c1, Z6, Z7
	VSUBPS           Z5, Z7, Z7
	VFMADD231PS.BCST K_c2, Z6, Z7
	EXPPOLY16(Z7, Z8, Z9, Z13, Z14)
	VCVTPS2DQ        Z6, Z9
	VPBROADCASTD     K_bias127, Z10
	VPSUBD           Z9, Z10, Z10
	VPSLLD           $23, Z10, Z10
	VMULPS           Z10, Z8, Z8

	// gelu' = Phi + x*E1/sqrt(2pi), then the |x| >= 13 masks:
	// x > 13 -> 1 (K2), x < -13 -> +0 (K3).
	VMULPS.BCST  K_invsqrt2pi, Z8, Z8
	VFMADD231PS  Z8, Z0, Z12
	VBROADCASTSS K_xhi, Z15
	VCMPPS       $1, Z0, Z15, K2
	VBROADCASTSS K_one, Z14
	VMOVAPS      Z14, K2, Z12
	VCMPPS.BCST  $1, K_xlo, Z0, K3
	VPXORD       Z14, Z14, Z14
	VMOVAPS      Z14, K3, Z12

	VMOVUPS     (DX), Z9
	VMOVUPS     (DI), Z10
	VFMADD231PS Z12, Z9, Z10
	VMOVUPS     Z10, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	DECQ        CX
	JNZ         zbloop

zbdone:
	VZEROUPPER
	RET

// func geluForwardAVX512(out, inp *float32, n int)
// geluForwardAVX2 on 16 lanes (n a positive multiple of 16): the same
// operations in the same order and operand order on every lane (the NaN
// that max/min/add pass on is the same), so every element gets the same
// bits. Needs AVX512F only; the x < -13 mask zeroes through K1.
TEXT ·geluForwardAVX512(SB), NOSPLIT, $0-24
	MOVQ   out+0(FP), DI
	MOVQ   inp+8(FP), SI
	MOVQ   n+16(FP), CX
	SHRQ   $4, CX
	JZ     zfdone
	VPXORD Z15, Z15, Z15

zfloop:
	VMOVUPS          (SI), Z0
	VMULPS.BCST      K_invsqrt2, Z0, Z1
	VMAXPS.BCST      K_mfour, Z1, Z1
	VMINPS.BCST      K_four, Z1, Z1
	VMULPS           Z1, Z1, Z2
	VBROADCASTSS     K_erfa13, Z3
	VBROADCASTSS     K_erfb8, Z4
	VFMADD213PS.BCST K_erfa11, Z2, Z3
	VFMADD213PS.BCST K_erfb6, Z2, Z4
	VFMADD213PS.BCST K_erfa9, Z2, Z3
	VFMADD213PS.BCST K_erfb4, Z2, Z4
	VFMADD213PS.BCST K_erfa7, Z2, Z3
	VFMADD213PS.BCST K_erfb2, Z2, Z4
	VFMADD213PS.BCST K_erfa5, Z2, Z3
	VFMADD213PS.BCST K_erfb0, Z2, Z4
	VFMADD213PS.BCST K_erfa3, Z2, Z3
	VFMADD213PS.BCST K_erfa1, Z2, Z3
	VMULPS           Z1, Z3, Z3
	VDIVPS           Z4, Z3, Z3
	VMINPS.BCST      K_one, Z3, Z3
	VMAXPS.BCST      K_mone, Z3, Z3
	VMULPS.BCST      K_half, Z0, Z5
	VFMADD231PS      Z3, Z5, Z5
	VCMPPS.BCST      $1, K_xlo, Z0, K1
	VMOVAPS          Z15, K1, Z5
	VMOVUPS          Z5, (DI)
	ADDQ             $64, SI
	ADDQ             $64, DI
	DECQ             CX
	JNZ              zfloop

zfdone:
	VZEROUPPER
	RET
