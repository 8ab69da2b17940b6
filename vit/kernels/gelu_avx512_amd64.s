//go:build amd64 && !purego

#include "textflag.h"

// geluBackwardAVX2 (math_amd64.s) on 16 lanes: the same operations in the
// same order on every lane, so every element gets the same bits. The
// constants are geluC's, one float each, broadcast by the instructions.

DATA geluZ<>+0(SB)/4, $0x7fffffff
DATA geluZ<>+4(SB)/4, $0x3f3504f3
DATA geluZ<>+8(SB)/4, $0x3f000000
DATA geluZ<>+12(SB)/4, $0x3f800000
DATA geluZ<>+16(SB)/4, $0x41133333
DATA geluZ<>+20(SB)/4, $0x3fb8aa3b
DATA geluZ<>+24(SB)/4, $0xc2fc0000
DATA geluZ<>+28(SB)/4, $0x3f318000
DATA geluZ<>+32(SB)/4, $0xb95e8083
DATA geluZ<>+36(SB)/4, $0x39506967
DATA geluZ<>+40(SB)/4, $0x3ab743ce
DATA geluZ<>+44(SB)/4, $0x3c088908
DATA geluZ<>+48(SB)/4, $0x3d2aa9c1
DATA geluZ<>+52(SB)/4, $0x3e2aaaaa
DATA geluZ<>+56(SB)/4, $0x3f000000
DATA geluZ<>+60(SB)/4, $0x0000007f
DATA geluZ<>+64(SB)/4, $0xc1500000
DATA geluZ<>+68(SB)/4, $0x41500000
DATA geluZ<>+72(SB)/4, $0x3ecc422a
DATA geluZ<>+76(SB)/4, $0x3e2ef945
DATA geluZ<>+80(SB)/4, $0xbf527892
DATA geluZ<>+84(SB)/4, $0x3fbe87b0
DATA geluZ<>+88(SB)/4, $0xbf914e5d
DATA geluZ<>+92(SB)/4, $0x3e8ec7cc
DATA geluZ<>+96(SB)/4, $0xbe3ec24c
DATA geluZ<>+100(SB)/4, $0x3dc636c9
DATA geluZ<>+104(SB)/4, $0x3ebf88fb
DATA geluZ<>+108(SB)/4, $0x3f8000c7
DATA geluZ<>+112(SB)/4, $0xbfa1fc4e
DATA geluZ<>+116(SB)/4, $0xc2ae999a
DATA geluZ<>+120(SB)/4, $0x42b0999a
GLOBL geluZ<>(SB), RODATA|NOPTR, $124

#define ZK_absmask geluZ<>+0(SB)
#define ZK_invsqrt2 geluZ<>+4(SB)
#define ZK_half geluZ<>+8(SB)
#define ZK_one geluZ<>+12(SB)
#define ZK_log2e geluZ<>+20(SB)
#define ZK_nmin geluZ<>+24(SB)
#define ZK_c1 geluZ<>+28(SB)
#define ZK_c2 geluZ<>+32(SB)
#define ZK_e5 geluZ<>+36(SB)
#define ZK_e4 geluZ<>+40(SB)
#define ZK_e3 geluZ<>+44(SB)
#define ZK_e2 geluZ<>+48(SB)
#define ZK_e1 geluZ<>+52(SB)
#define ZK_e0 geluZ<>+56(SB)
#define ZK_bias127 geluZ<>+60(SB)
#define ZK_xlo geluZ<>+64(SB)
#define ZK_xhi geluZ<>+68(SB)
#define ZK_invsqrt2pi geluZ<>+72(SB)
#define ZK_p9 geluZ<>+76(SB)
#define ZK_p8 geluZ<>+80(SB)
#define ZK_p7 geluZ<>+84(SB)
#define ZK_p6 geluZ<>+88(SB)
#define ZK_p5 geluZ<>+92(SB)
#define ZK_p4 geluZ<>+96(SB)
#define ZK_p3 geluZ<>+100(SB)
#define ZK_p2 geluZ<>+104(SB)
#define ZK_p1 geluZ<>+108(SB)
#define ZK_p0 geluZ<>+112(SB)
#define ZK_expmin geluZ<>+116(SB)
#define ZK_expmax geluZ<>+120(SB)

#define EXPPOLYZ(r, out, t1, t2, t3) \
	VMULPS           r, r, t1; \
	VBROADCASTSS     ZK_e5, out; \
	VFMADD213PS.BCST ZK_e4, r, out; \
	VBROADCASTSS     ZK_e3, t2; \
	VFMADD213PS.BCST ZK_e2, r, t2; \
	VBROADCASTSS     ZK_e1, t3; \
	VFMADD213PS.BCST ZK_e0, r, t3; \
	VFMADD213PS      t2, t1, out; \
	VFMADD213PS      t3, t1, out; \
	VFMADD213PS      r, t1, out; \
	VADDPS.BCST      ZK_one, out, out

// PHIZ is math_amd64.s's PHI on Z0 (x) -> Z12 (Phi(x)), with Z2 = t,
// Z4+Z5 = z*z and the same temporaries; its final blend on the sign of x
// goes through K1.
#define PHIZ \
	VANDPS.BCST       ZK_absmask, Z0, Z1; \
	VMINPS.BCST       ZK_xhi, Z1, Z1; \
	VMULPS            Z1, Z1, Z4; \
	VMOVAPS           Z1, Z5; \
	VFMSUB213PS       Z4, Z1, Z5; \
	VMULPS.BCST       ZK_half, Z4, Z4; \
	VMULPS.BCST       ZK_half, Z5, Z5; \
	VMULPS.BCST       ZK_invsqrt2, Z1, Z1; \
	VBROADCASTSS      ZK_half, Z2; \
	VFMADD213PS.BCST  ZK_one, Z1, Z2; \
	VBROADCASTSS      ZK_one, Z3; \
	VDIVPS            Z2, Z3, Z2; \
	VMULPS            Z2, Z2, Z3; \
	VBROADCASTSS      ZK_p9, Z8; \
	VFMADD213PS.BCST  ZK_p8, Z2, Z8; \
	VBROADCASTSS      ZK_p7, Z9; \
	VFMADD213PS.BCST  ZK_p6, Z2, Z9; \
	VBROADCASTSS      ZK_p5, Z10; \
	VFMADD213PS.BCST  ZK_p4, Z2, Z10; \
	VBROADCASTSS      ZK_p3, Z11; \
	VFMADD213PS.BCST  ZK_p2, Z2, Z11; \
	VBROADCASTSS      ZK_p1, Z12; \
	VFMADD213PS.BCST  ZK_p0, Z2, Z12; \
	VFMADD231PS       Z9, Z3, Z10; \
	VFMADD231PS       Z11, Z3, Z12; \
	VMULPS            Z3, Z3, Z13; \
	VFMADD231PS       Z10, Z13, Z12; \
	VMULPS            Z13, Z13, Z13; \
	VFMADD231PS       Z8, Z13, Z12; \
	VSUBPS            Z5, Z12, Z3; \
	VSUBPS            Z4, Z3, Z6; \
	VMULPS.BCST       ZK_log2e, Z6, Z6; \
	VRNDSCALEPS       $0, Z6, Z6; \
	VMAXPS.BCST       ZK_nmin, Z6, Z6; \
	VMOVAPS           Z4, Z7; \
	VFNMSUB231PS.BCST ZK_c1, Z6, Z7; \
	VADDPS            Z3, Z7, Z7; \
	VFNMADD231PS.BCST ZK_c2, Z6, Z7; \
	EXPPOLYZ(Z7, Z8, Z9, Z13, Z14); \
	VCVTPS2DQ         Z6, Z10; \
	VPADDD.BCST       ZK_bias127, Z10, Z10; \
	VPSLLD            $23, Z10, Z10; \
	VMULPS            Z10, Z8, Z8; \
	VMULPS            Z2, Z8, Z8; \
	VMULPS.BCST       ZK_half, Z8, Z8; \
	VBROADCASTSS      ZK_one, Z11; \
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
	VMULPS.BCST      ZK_log2e, Z4, Z6
	VRNDSCALEPS      $0, Z6, Z6
	VMOVAPS          Z4, Z7
	VFMSUB231PS.BCST ZK_c1, Z6, Z7
	VSUBPS           Z5, Z7, Z7
	VFMADD231PS.BCST ZK_c2, Z6, Z7
	EXPPOLYZ(Z7, Z8, Z9, Z13, Z14)
	VCVTPS2DQ        Z6, Z9
	VPBROADCASTD     ZK_bias127, Z10
	VPSUBD           Z9, Z10, Z10
	VPSLLD           $23, Z10, Z10
	VMULPS           Z10, Z8, Z8

	// gelu' = Phi + x*E1/sqrt(2pi), then the |x| >= 13 masks:
	// x > 13 -> 1 (K2), x < -13 -> +0 (K3).
	VMULPS.BCST  ZK_invsqrt2pi, Z8, Z8
	VFMADD231PS  Z8, Z0, Z12
	VBROADCASTSS ZK_xhi, Z15
	VCMPPS       $1, Z0, Z15, K2
	VBROADCASTSS ZK_one, Z14
	VMOVAPS      Z14, K2, Z12
	VCMPPS.BCST  $1, ZK_xlo, Z0, K3
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

// The rational erf of geluForwardAVX2 (math_amd64.s's erfC), one float
// each, broadcast by the instructions.
DATA erfZ<>+0(SB)/4, $0xaf95df0b
DATA erfZ<>+4(SB)/4, $0x32edffee
DATA erfZ<>+8(SB)/4, $0xb60cff51
DATA erfZ<>+12(SB)/4, $0xb86ec2d2
DATA erfZ<>+16(SB)/4, $0xba40ac63
DATA erfZ<>+20(SB)/4, $0xbb41a1f6
DATA erfZ<>+24(SB)/4, $0xbc83dbd4
DATA erfZ<>+28(SB)/4, $0xb77460cd
DATA erfZ<>+32(SB)/4, $0xb95fbd29
DATA erfZ<>+36(SB)/4, $0xbadc924e
DATA erfZ<>+40(SB)/4, $0xbbf19bf8
DATA erfZ<>+44(SB)/4, $0xbc69b6a7
DATA erfZ<>+48(SB)/4, $0x40800000
DATA erfZ<>+52(SB)/4, $0xc0800000
DATA erfZ<>+56(SB)/4, $0xbf800000
GLOBL erfZ<>(SB), RODATA|NOPTR, $60

#define ZE_a13 erfZ<>+0(SB)
#define ZE_a11 erfZ<>+4(SB)
#define ZE_a9 erfZ<>+8(SB)
#define ZE_a7 erfZ<>+12(SB)
#define ZE_a5 erfZ<>+16(SB)
#define ZE_a3 erfZ<>+20(SB)
#define ZE_a1 erfZ<>+24(SB)
#define ZE_b8 erfZ<>+28(SB)
#define ZE_b6 erfZ<>+32(SB)
#define ZE_b4 erfZ<>+36(SB)
#define ZE_b2 erfZ<>+40(SB)
#define ZE_b0 erfZ<>+44(SB)
#define ZE_four erfZ<>+48(SB)
#define ZE_mfour erfZ<>+52(SB)
#define ZE_mone erfZ<>+56(SB)

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
	VMULPS.BCST      ZK_invsqrt2, Z0, Z1
	VMAXPS.BCST      ZE_mfour, Z1, Z1
	VMINPS.BCST      ZE_four, Z1, Z1
	VMULPS           Z1, Z1, Z2
	VBROADCASTSS     ZE_a13, Z3
	VBROADCASTSS     ZE_b8, Z4
	VFMADD213PS.BCST ZE_a11, Z2, Z3
	VFMADD213PS.BCST ZE_b6, Z2, Z4
	VFMADD213PS.BCST ZE_a9, Z2, Z3
	VFMADD213PS.BCST ZE_b4, Z2, Z4
	VFMADD213PS.BCST ZE_a7, Z2, Z3
	VFMADD213PS.BCST ZE_b2, Z2, Z4
	VFMADD213PS.BCST ZE_a5, Z2, Z3
	VFMADD213PS.BCST ZE_b0, Z2, Z4
	VFMADD213PS.BCST ZE_a3, Z2, Z3
	VFMADD213PS.BCST ZE_a1, Z2, Z3
	VMULPS           Z1, Z3, Z3
	VDIVPS           Z4, Z3, Z3
	VMINPS.BCST      ZK_one, Z3, Z3
	VMAXPS.BCST      ZE_mone, Z3, Z3
	VMULPS.BCST      ZK_half, Z0, Z5
	VFMADD231PS      Z3, Z5, Z5
	VCMPPS.BCST      $1, ZK_xlo, Z0, K1
	VMOVAPS          Z15, K1, Z5
	VMOVUPS          Z5, (DI)
	ADDQ             $64, SI
	ADDQ             $64, DI
	DECQ             CX
	JNZ              zfloop

zfdone:
	VZEROUPPER
	RET
