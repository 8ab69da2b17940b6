// The constants of the GELU, softmax and attention kernels and the float32
// exp they share, one source for math_amd64.s, gelu_avx512_amd64.s and
// attention_amd64.s (each includes it once). The tables (·geluC, ·erfC)
// are in math_amd64.s, 8 lanes per constant: the AVX2 kernels read them as
// YMM, the AVX-512 ones broadcast the first lane. EXPZ is the exp on 8
// lanes, EXPZ16 the same operations per lane on 16.

// ·geluC: the GELU's and the exp's constants.
#define K_absmask ·geluC+0(SB)
#define K_invsqrt2 ·geluC+32(SB)
#define K_half ·geluC+64(SB)
#define K_one ·geluC+96(SB)
#define K_log2e ·geluC+160(SB)
#define K_nmin ·geluC+192(SB)
#define K_c1 ·geluC+224(SB)
#define K_c2 ·geluC+256(SB)
#define K_e5 ·geluC+288(SB)
#define K_e4 ·geluC+320(SB)
#define K_e3 ·geluC+352(SB)
#define K_e2 ·geluC+384(SB)
#define K_e1 ·geluC+416(SB)
#define K_e0 ·geluC+448(SB)
#define K_bias127 ·geluC+480(SB)
#define K_xlo ·geluC+512(SB)
#define K_xhi ·geluC+544(SB)
#define K_invsqrt2pi ·geluC+576(SB)
#define K_p9 ·geluC+608(SB)
#define K_p8 ·geluC+640(SB)
#define K_p7 ·geluC+672(SB)
#define K_p6 ·geluC+704(SB)
#define K_p5 ·geluC+736(SB)
#define K_p4 ·geluC+768(SB)
#define K_p3 ·geluC+800(SB)
#define K_p2 ·geluC+832(SB)
#define K_p1 ·geluC+864(SB)
#define K_p0 ·geluC+896(SB)
#define K_expmin ·geluC+928(SB)
#define K_expmax ·geluC+960(SB)

// EXPPOLY: out = exp(r) for r in [-0.35, 0.35] (Cephes expf polynomial,
// evaluated by Estrin's scheme for a short dependency chain); t1..t3 are
// temporaries.
// The rational erf of the forward GELU (·erfC, math_amd64.s).
#define K_erfa13 ·erfC+0(SB)
#define K_erfa11 ·erfC+32(SB)
#define K_erfa9 ·erfC+64(SB)
#define K_erfa7 ·erfC+96(SB)
#define K_erfa5 ·erfC+128(SB)
#define K_erfa3 ·erfC+160(SB)
#define K_erfa1 ·erfC+192(SB)
#define K_erfb8 ·erfC+224(SB)
#define K_erfb6 ·erfC+256(SB)
#define K_erfb4 ·erfC+288(SB)
#define K_erfb2 ·erfC+320(SB)
#define K_erfb0 ·erfC+352(SB)
#define K_four ·erfC+384(SB)
#define K_mfour ·erfC+416(SB)
#define K_mone ·erfC+448(SB)

#define EXPPOLY(r, out, t1, t2, t3) \
	VMULPS      r, r, t1; \
	VMOVUPS     K_e5, out; \
	VFMADD213PS K_e4, r, out; \
	VMOVUPS     K_e3, t2; \
	VFMADD213PS K_e2, r, t2; \
	VMOVUPS     K_e1, t3; \
	VFMADD213PS K_e0, r, t3; \
	VFMADD213PS t2, t1, out; \
	VFMADD213PS t3, t1, out; \
	VFMADD213PS r, t1, out; \
	VADDPS      K_one, out, out

// EXPZ: Y(out) = exp(Y(x)) with x < -87.3 giving 0 (x is clobbered).
// Uses Y6, Y9, Y10, Y11, Y13, Y14 as temporaries.
#define EXPZ(x, out) \
	VCMPPS       $1, K_expmin, x, Y14; \
	VMAXPS       K_expmin, x, x; \
	VMINPS       K_expmax, x, x; \
	VMULPS       K_log2e, x, Y6; \
	VROUNDPS     $0, Y6, Y6; \
	VFNMADD231PS K_c1, Y6, x; \
	VFNMADD231PS K_c2, Y6, x; \
	EXPPOLY(x, out, Y9, Y11, Y13); \
	VCVTPS2DQ    Y6, Y10; \
	VPADDD       K_bias127, Y10, Y10; \
	VPSLLD       $23, Y10, Y10; \
	VMULPS       Y10, out, out; \
	VANDNPS      out, Y14, out

// The 16-lane exp of EXPZ (the same operations per lane, constants
// broadcast from ·geluC): x < expmin lanes are zeroed through K1 and Z16
// (which holds +0).
#define EXPPOLY16(r, out, t1, t2, t3) \
	VMULPS           r, r, t1; \
	VBROADCASTSS     K_e5, out; \
	VFMADD213PS.BCST K_e4, r, out; \
	VBROADCASTSS     K_e3, t2; \
	VFMADD213PS.BCST K_e2, r, t2; \
	VBROADCASTSS     K_e1, t3; \
	VFMADD213PS.BCST K_e0, r, t3; \
	VFMADD213PS      t2, t1, out; \
	VFMADD213PS      t3, t1, out; \
	VFMADD213PS      r, t1, out; \
	VADDPS.BCST      K_one, out, out

#define EXPZ16(x, out) \
	VCMPPS.BCST       $1, K_expmin, x, K1; \
	VMAXPS.BCST       K_expmin, x, x; \
	VMINPS.BCST       K_expmax, x, x; \
	VMULPS.BCST       K_log2e, x, Z6; \
	VRNDSCALEPS       $0, Z6, Z6; \
	VFNMADD231PS.BCST K_c1, Z6, x; \
	VFNMADD231PS.BCST K_c2, Z6, x; \
	EXPPOLY16(x, out, Z9, Z11, Z13); \
	VCVTPS2DQ         Z6, Z10; \
	VPADDD.BCST       K_bias127, Z10, Z10; \
	VPSLLD            $23, Z10, Z10; \
	VMULPS            Z10, out, out; \
	VMOVAPS           Z16, K1, out
