//go:build amd64 && !purego

#include "textflag.h"

// Attention kernels: the fused (batch, head) pair of attnFusedAVX2 and the
// online-softmax row update of the tiled inference path (flashRowsAVX2).
// The exp is the same as softmaxRowsAVX2's (math_amd64.s): these constants
// are a copy of geluC, so the fused kernel's softmax is bit-identical.

DATA attnC<>+0(SB)/4, $0x7fffffff
DATA attnC<>+4(SB)/4, $0x7fffffff
DATA attnC<>+8(SB)/4, $0x7fffffff
DATA attnC<>+12(SB)/4, $0x7fffffff
DATA attnC<>+16(SB)/4, $0x7fffffff
DATA attnC<>+20(SB)/4, $0x7fffffff
DATA attnC<>+24(SB)/4, $0x7fffffff
DATA attnC<>+28(SB)/4, $0x7fffffff
DATA attnC<>+32(SB)/4, $0x3f3504f3
DATA attnC<>+36(SB)/4, $0x3f3504f3
DATA attnC<>+40(SB)/4, $0x3f3504f3
DATA attnC<>+44(SB)/4, $0x3f3504f3
DATA attnC<>+48(SB)/4, $0x3f3504f3
DATA attnC<>+52(SB)/4, $0x3f3504f3
DATA attnC<>+56(SB)/4, $0x3f3504f3
DATA attnC<>+60(SB)/4, $0x3f3504f3
DATA attnC<>+64(SB)/4, $0x3f000000
DATA attnC<>+68(SB)/4, $0x3f000000
DATA attnC<>+72(SB)/4, $0x3f000000
DATA attnC<>+76(SB)/4, $0x3f000000
DATA attnC<>+80(SB)/4, $0x3f000000
DATA attnC<>+84(SB)/4, $0x3f000000
DATA attnC<>+88(SB)/4, $0x3f000000
DATA attnC<>+92(SB)/4, $0x3f000000
DATA attnC<>+96(SB)/4, $0x3f800000
DATA attnC<>+100(SB)/4, $0x3f800000
DATA attnC<>+104(SB)/4, $0x3f800000
DATA attnC<>+108(SB)/4, $0x3f800000
DATA attnC<>+112(SB)/4, $0x3f800000
DATA attnC<>+116(SB)/4, $0x3f800000
DATA attnC<>+120(SB)/4, $0x3f800000
DATA attnC<>+124(SB)/4, $0x3f800000
DATA attnC<>+128(SB)/4, $0x41133333
DATA attnC<>+132(SB)/4, $0x41133333
DATA attnC<>+136(SB)/4, $0x41133333
DATA attnC<>+140(SB)/4, $0x41133333
DATA attnC<>+144(SB)/4, $0x41133333
DATA attnC<>+148(SB)/4, $0x41133333
DATA attnC<>+152(SB)/4, $0x41133333
DATA attnC<>+156(SB)/4, $0x41133333
DATA attnC<>+160(SB)/4, $0x3fb8aa3b
DATA attnC<>+164(SB)/4, $0x3fb8aa3b
DATA attnC<>+168(SB)/4, $0x3fb8aa3b
DATA attnC<>+172(SB)/4, $0x3fb8aa3b
DATA attnC<>+176(SB)/4, $0x3fb8aa3b
DATA attnC<>+180(SB)/4, $0x3fb8aa3b
DATA attnC<>+184(SB)/4, $0x3fb8aa3b
DATA attnC<>+188(SB)/4, $0x3fb8aa3b
DATA attnC<>+192(SB)/4, $0xc2fc0000
DATA attnC<>+196(SB)/4, $0xc2fc0000
DATA attnC<>+200(SB)/4, $0xc2fc0000
DATA attnC<>+204(SB)/4, $0xc2fc0000
DATA attnC<>+208(SB)/4, $0xc2fc0000
DATA attnC<>+212(SB)/4, $0xc2fc0000
DATA attnC<>+216(SB)/4, $0xc2fc0000
DATA attnC<>+220(SB)/4, $0xc2fc0000
DATA attnC<>+224(SB)/4, $0x3f318000
DATA attnC<>+228(SB)/4, $0x3f318000
DATA attnC<>+232(SB)/4, $0x3f318000
DATA attnC<>+236(SB)/4, $0x3f318000
DATA attnC<>+240(SB)/4, $0x3f318000
DATA attnC<>+244(SB)/4, $0x3f318000
DATA attnC<>+248(SB)/4, $0x3f318000
DATA attnC<>+252(SB)/4, $0x3f318000
DATA attnC<>+256(SB)/4, $0xb95e8083
DATA attnC<>+260(SB)/4, $0xb95e8083
DATA attnC<>+264(SB)/4, $0xb95e8083
DATA attnC<>+268(SB)/4, $0xb95e8083
DATA attnC<>+272(SB)/4, $0xb95e8083
DATA attnC<>+276(SB)/4, $0xb95e8083
DATA attnC<>+280(SB)/4, $0xb95e8083
DATA attnC<>+284(SB)/4, $0xb95e8083
DATA attnC<>+288(SB)/4, $0x39506967
DATA attnC<>+292(SB)/4, $0x39506967
DATA attnC<>+296(SB)/4, $0x39506967
DATA attnC<>+300(SB)/4, $0x39506967
DATA attnC<>+304(SB)/4, $0x39506967
DATA attnC<>+308(SB)/4, $0x39506967
DATA attnC<>+312(SB)/4, $0x39506967
DATA attnC<>+316(SB)/4, $0x39506967
DATA attnC<>+320(SB)/4, $0x3ab743ce
DATA attnC<>+324(SB)/4, $0x3ab743ce
DATA attnC<>+328(SB)/4, $0x3ab743ce
DATA attnC<>+332(SB)/4, $0x3ab743ce
DATA attnC<>+336(SB)/4, $0x3ab743ce
DATA attnC<>+340(SB)/4, $0x3ab743ce
DATA attnC<>+344(SB)/4, $0x3ab743ce
DATA attnC<>+348(SB)/4, $0x3ab743ce
DATA attnC<>+352(SB)/4, $0x3c088908
DATA attnC<>+356(SB)/4, $0x3c088908
DATA attnC<>+360(SB)/4, $0x3c088908
DATA attnC<>+364(SB)/4, $0x3c088908
DATA attnC<>+368(SB)/4, $0x3c088908
DATA attnC<>+372(SB)/4, $0x3c088908
DATA attnC<>+376(SB)/4, $0x3c088908
DATA attnC<>+380(SB)/4, $0x3c088908
DATA attnC<>+384(SB)/4, $0x3d2aa9c1
DATA attnC<>+388(SB)/4, $0x3d2aa9c1
DATA attnC<>+392(SB)/4, $0x3d2aa9c1
DATA attnC<>+396(SB)/4, $0x3d2aa9c1
DATA attnC<>+400(SB)/4, $0x3d2aa9c1
DATA attnC<>+404(SB)/4, $0x3d2aa9c1
DATA attnC<>+408(SB)/4, $0x3d2aa9c1
DATA attnC<>+412(SB)/4, $0x3d2aa9c1
DATA attnC<>+416(SB)/4, $0x3e2aaaaa
DATA attnC<>+420(SB)/4, $0x3e2aaaaa
DATA attnC<>+424(SB)/4, $0x3e2aaaaa
DATA attnC<>+428(SB)/4, $0x3e2aaaaa
DATA attnC<>+432(SB)/4, $0x3e2aaaaa
DATA attnC<>+436(SB)/4, $0x3e2aaaaa
DATA attnC<>+440(SB)/4, $0x3e2aaaaa
DATA attnC<>+444(SB)/4, $0x3e2aaaaa
DATA attnC<>+448(SB)/4, $0x3f000000
DATA attnC<>+452(SB)/4, $0x3f000000
DATA attnC<>+456(SB)/4, $0x3f000000
DATA attnC<>+460(SB)/4, $0x3f000000
DATA attnC<>+464(SB)/4, $0x3f000000
DATA attnC<>+468(SB)/4, $0x3f000000
DATA attnC<>+472(SB)/4, $0x3f000000
DATA attnC<>+476(SB)/4, $0x3f000000
DATA attnC<>+480(SB)/4, $0x0000007f
DATA attnC<>+484(SB)/4, $0x0000007f
DATA attnC<>+488(SB)/4, $0x0000007f
DATA attnC<>+492(SB)/4, $0x0000007f
DATA attnC<>+496(SB)/4, $0x0000007f
DATA attnC<>+500(SB)/4, $0x0000007f
DATA attnC<>+504(SB)/4, $0x0000007f
DATA attnC<>+508(SB)/4, $0x0000007f
DATA attnC<>+512(SB)/4, $0xc1500000
DATA attnC<>+516(SB)/4, $0xc1500000
DATA attnC<>+520(SB)/4, $0xc1500000
DATA attnC<>+524(SB)/4, $0xc1500000
DATA attnC<>+528(SB)/4, $0xc1500000
DATA attnC<>+532(SB)/4, $0xc1500000
DATA attnC<>+536(SB)/4, $0xc1500000
DATA attnC<>+540(SB)/4, $0xc1500000
DATA attnC<>+544(SB)/4, $0x41500000
DATA attnC<>+548(SB)/4, $0x41500000
DATA attnC<>+552(SB)/4, $0x41500000
DATA attnC<>+556(SB)/4, $0x41500000
DATA attnC<>+560(SB)/4, $0x41500000
DATA attnC<>+564(SB)/4, $0x41500000
DATA attnC<>+568(SB)/4, $0x41500000
DATA attnC<>+572(SB)/4, $0x41500000
DATA attnC<>+576(SB)/4, $0x3ecc422a
DATA attnC<>+580(SB)/4, $0x3ecc422a
DATA attnC<>+584(SB)/4, $0x3ecc422a
DATA attnC<>+588(SB)/4, $0x3ecc422a
DATA attnC<>+592(SB)/4, $0x3ecc422a
DATA attnC<>+596(SB)/4, $0x3ecc422a
DATA attnC<>+600(SB)/4, $0x3ecc422a
DATA attnC<>+604(SB)/4, $0x3ecc422a
DATA attnC<>+608(SB)/4, $0x3e2ef945
DATA attnC<>+612(SB)/4, $0x3e2ef945
DATA attnC<>+616(SB)/4, $0x3e2ef945
DATA attnC<>+620(SB)/4, $0x3e2ef945
DATA attnC<>+624(SB)/4, $0x3e2ef945
DATA attnC<>+628(SB)/4, $0x3e2ef945
DATA attnC<>+632(SB)/4, $0x3e2ef945
DATA attnC<>+636(SB)/4, $0x3e2ef945
DATA attnC<>+640(SB)/4, $0xbf527892
DATA attnC<>+644(SB)/4, $0xbf527892
DATA attnC<>+648(SB)/4, $0xbf527892
DATA attnC<>+652(SB)/4, $0xbf527892
DATA attnC<>+656(SB)/4, $0xbf527892
DATA attnC<>+660(SB)/4, $0xbf527892
DATA attnC<>+664(SB)/4, $0xbf527892
DATA attnC<>+668(SB)/4, $0xbf527892
DATA attnC<>+672(SB)/4, $0x3fbe87b0
DATA attnC<>+676(SB)/4, $0x3fbe87b0
DATA attnC<>+680(SB)/4, $0x3fbe87b0
DATA attnC<>+684(SB)/4, $0x3fbe87b0
DATA attnC<>+688(SB)/4, $0x3fbe87b0
DATA attnC<>+692(SB)/4, $0x3fbe87b0
DATA attnC<>+696(SB)/4, $0x3fbe87b0
DATA attnC<>+700(SB)/4, $0x3fbe87b0
DATA attnC<>+704(SB)/4, $0xbf914e5d
DATA attnC<>+708(SB)/4, $0xbf914e5d
DATA attnC<>+712(SB)/4, $0xbf914e5d
DATA attnC<>+716(SB)/4, $0xbf914e5d
DATA attnC<>+720(SB)/4, $0xbf914e5d
DATA attnC<>+724(SB)/4, $0xbf914e5d
DATA attnC<>+728(SB)/4, $0xbf914e5d
DATA attnC<>+732(SB)/4, $0xbf914e5d
DATA attnC<>+736(SB)/4, $0x3e8ec7cc
DATA attnC<>+740(SB)/4, $0x3e8ec7cc
DATA attnC<>+744(SB)/4, $0x3e8ec7cc
DATA attnC<>+748(SB)/4, $0x3e8ec7cc
DATA attnC<>+752(SB)/4, $0x3e8ec7cc
DATA attnC<>+756(SB)/4, $0x3e8ec7cc
DATA attnC<>+760(SB)/4, $0x3e8ec7cc
DATA attnC<>+764(SB)/4, $0x3e8ec7cc
DATA attnC<>+768(SB)/4, $0xbe3ec24c
DATA attnC<>+772(SB)/4, $0xbe3ec24c
DATA attnC<>+776(SB)/4, $0xbe3ec24c
DATA attnC<>+780(SB)/4, $0xbe3ec24c
DATA attnC<>+784(SB)/4, $0xbe3ec24c
DATA attnC<>+788(SB)/4, $0xbe3ec24c
DATA attnC<>+792(SB)/4, $0xbe3ec24c
DATA attnC<>+796(SB)/4, $0xbe3ec24c
DATA attnC<>+800(SB)/4, $0x3dc636c9
DATA attnC<>+804(SB)/4, $0x3dc636c9
DATA attnC<>+808(SB)/4, $0x3dc636c9
DATA attnC<>+812(SB)/4, $0x3dc636c9
DATA attnC<>+816(SB)/4, $0x3dc636c9
DATA attnC<>+820(SB)/4, $0x3dc636c9
DATA attnC<>+824(SB)/4, $0x3dc636c9
DATA attnC<>+828(SB)/4, $0x3dc636c9
DATA attnC<>+832(SB)/4, $0x3ebf88fb
DATA attnC<>+836(SB)/4, $0x3ebf88fb
DATA attnC<>+840(SB)/4, $0x3ebf88fb
DATA attnC<>+844(SB)/4, $0x3ebf88fb
DATA attnC<>+848(SB)/4, $0x3ebf88fb
DATA attnC<>+852(SB)/4, $0x3ebf88fb
DATA attnC<>+856(SB)/4, $0x3ebf88fb
DATA attnC<>+860(SB)/4, $0x3ebf88fb
DATA attnC<>+864(SB)/4, $0x3f8000c7
DATA attnC<>+868(SB)/4, $0x3f8000c7
DATA attnC<>+872(SB)/4, $0x3f8000c7
DATA attnC<>+876(SB)/4, $0x3f8000c7
DATA attnC<>+880(SB)/4, $0x3f8000c7
DATA attnC<>+884(SB)/4, $0x3f8000c7
DATA attnC<>+888(SB)/4, $0x3f8000c7
DATA attnC<>+892(SB)/4, $0x3f8000c7
DATA attnC<>+896(SB)/4, $0xbfa1fc4e
DATA attnC<>+900(SB)/4, $0xbfa1fc4e
DATA attnC<>+904(SB)/4, $0xbfa1fc4e
DATA attnC<>+908(SB)/4, $0xbfa1fc4e
DATA attnC<>+912(SB)/4, $0xbfa1fc4e
DATA attnC<>+916(SB)/4, $0xbfa1fc4e
DATA attnC<>+920(SB)/4, $0xbfa1fc4e
DATA attnC<>+924(SB)/4, $0xbfa1fc4e
DATA attnC<>+928(SB)/4, $0xc2ae999a
DATA attnC<>+932(SB)/4, $0xc2ae999a
DATA attnC<>+936(SB)/4, $0xc2ae999a
DATA attnC<>+940(SB)/4, $0xc2ae999a
DATA attnC<>+944(SB)/4, $0xc2ae999a
DATA attnC<>+948(SB)/4, $0xc2ae999a
DATA attnC<>+952(SB)/4, $0xc2ae999a
DATA attnC<>+956(SB)/4, $0xc2ae999a
DATA attnC<>+960(SB)/4, $0x42b0999a
DATA attnC<>+964(SB)/4, $0x42b0999a
DATA attnC<>+968(SB)/4, $0x42b0999a
DATA attnC<>+972(SB)/4, $0x42b0999a
DATA attnC<>+976(SB)/4, $0x42b0999a
DATA attnC<>+980(SB)/4, $0x42b0999a
DATA attnC<>+984(SB)/4, $0x42b0999a
DATA attnC<>+988(SB)/4, $0x42b0999a

GLOBL attnC<>(SB), RODATA|NOPTR, $992

// attnMask<>: 8 zero lanes then 8 all-ones lanes; the 8 lanes from index
// tp-T are the padding lanes of the last 8 columns of a score row.
DATA attnMask<>+0(SB)/8, $0
DATA attnMask<>+8(SB)/8, $0
DATA attnMask<>+16(SB)/8, $0
DATA attnMask<>+24(SB)/8, $0
DATA attnMask<>+32(SB)/8, $-1
DATA attnMask<>+40(SB)/8, $-1
DATA attnMask<>+48(SB)/8, $-1
DATA attnMask<>+56(SB)/8, $-1
GLOBL attnMask<>(SB), RODATA|NOPTR, $64

// attnPairIdx<>: VPERMPS indices that copy lane 0 to lanes 0..7 and lane
// 8 to lanes 8..15 (one value per row of a two-row ZMM).
DATA attnPairIdx<>+0(SB)/8, $0
DATA attnPairIdx<>+8(SB)/8, $0
DATA attnPairIdx<>+16(SB)/8, $0
DATA attnPairIdx<>+24(SB)/8, $0
DATA attnPairIdx<>+32(SB)/8, $0x0000000800000008
DATA attnPairIdx<>+40(SB)/8, $0x0000000800000008
DATA attnPairIdx<>+48(SB)/8, $0x0000000800000008
DATA attnPairIdx<>+56(SB)/8, $0x0000000800000008
GLOBL attnPairIdx<>(SB), RODATA|NOPTR, $64

DATA attnNegInf<>+0(SB)/4, $0xff800000
GLOBL attnNegInf<>(SB), RODATA|NOPTR, $4
#define K_neginf attnNegInf<>+0(SB)

#define K_one attnC<>+96(SB)
#define K_log2e attnC<>+160(SB)
#define K_c1 attnC<>+224(SB)
#define K_c2 attnC<>+256(SB)
#define K_e5 attnC<>+288(SB)
#define K_e4 attnC<>+320(SB)
#define K_e3 attnC<>+352(SB)
#define K_e2 attnC<>+384(SB)
#define K_e1 attnC<>+416(SB)
#define K_e0 attnC<>+448(SB)
#define K_bias127 attnC<>+480(SB)
#define K_expmin attnC<>+928(SB)
#define K_expmax attnC<>+960(SB)

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
// broadcast from attnC): x < expmin lanes are zeroed through K1 and Z16
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


// FMA16(acc0, acc1, b0, b1, x): the 4x16 inner step (acc rows in Y0..Y7).
#define FMA4x16 \
	VFMADD231PS Y8, Y10, Y0; \
	VFMADD231PS Y9, Y10, Y1; \
	VFMADD231PS Y8, Y11, Y2; \
	VFMADD231PS Y9, Y11, Y3; \
	VFMADD231PS Y8, Y12, Y4; \
	VFMADD231PS Y9, Y12, Y5; \
	VFMADD231PS Y8, Y13, Y6; \
	VFMADD231PS Y9, Y13, Y7

#define FMA4x8 \
	VFMADD231PS Y8, Y10, Y0; \
	VFMADD231PS Y8, Y11, Y2; \
	VFMADD231PS Y8, Y12, Y4; \
	VFMADD231PS Y8, Y13, Y6

// func attnFusedAVX2(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)
//
// One (batch, head) pair of the attention forward, m query rows (m >= 4)
// against T keys (tp = T rounded up to 8; hd a positive multiple of 8):
//
//	S = scale * Q·Kᵀ ; P = softmax(S) per row ; O = P·V
//
// Q rows are q + i*ld, V rows v + p*ld, O rows out + i*ldo; kt is Kᵀ (hd×tp,
// zero columns T..tp). Rows go in groups of 4 through s (4×tp scratch); the
// last group is moved back to rows m-4..m-1, so it recomputes (bit for bit)
// rows already done rather than padding. probs (rows of T, may be nil)
// receives P. The arithmetic per element is exactly that of the unfused
// path: S by rowsGemmAVX2 (FMA over p increasing, then *scale), P by
// softmaxRowsAVX2 over tp lanes with -Inf padding, O by rowsGemmAVX2 (FMA
// over p < T increasing; its *1 is exact and skipped).
TEXT ·attnFusedAVX2(SB), NOSPLIT, $0-100
#include "attn_fused_amd64.h"

// FMA4x32: FMA4x16 on ZMM registers (two 16-column vectors per row).
#define FMA4x32 \
	VFMADD231PS Z8, Z10, Z0; \
	VFMADD231PS Z9, Z10, Z1; \
	VFMADD231PS Z8, Z11, Z2; \
	VFMADD231PS Z9, Z11, Z3; \
	VFMADD231PS Z8, Z12, Z4; \
	VFMADD231PS Z9, Z12, Z5; \
	VFMADD231PS Z8, Z13, Z6; \
	VFMADD231PS Z9, Z13, Z7

// func attnFusedAVX512(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)
//
// attnFusedAVX2 with the two products widened to AVX-512 (AVX512F): S and
// O go by 4×32 blocks on ZMM registers where 32 columns remain (then the
// 4×16 and 4×8 YMM blocks, as in attnFusedAVX2). Every element of S and O
// is its own FMA chain over p increasing from zero, so the block width does
// not change a bit. The softmax runs two rows per ZMM register (one per
// 256-bit half), each with attnFusedAVX2's operations: its 8-lane max and
// sum reductions in the same order, the same exp per lane. Everything else
// is attnFusedAVX2's code unchanged: outputs and probs are bit-identical.
#define ATTN_FUSED_WIDE
TEXT ·attnFusedAVX512(SB), NOSPLIT, $0-100
#include "attn_fused_amd64.h"
#undef ATTN_FUSED_WIDE

// func flashRowsAVX2(s *float32, lds, n8, rows int, mrow, lrow, o *float32, hd int)
//
// The online-softmax step of the tiled inference path, for each row r <
// rows of the score tile s (row stride lds floats, n8*8 scores per row,
// padding set to -Inf): mnew = max(mrow[r], max(s[r])), a = exp(mrow[r] -
// mnew) (0 for the first tile, where mrow is -Inf), s[r] = exp(s[r] - mnew)
// in place, lrow[r] = a*lrow[r] + sum(s[r]), mrow[r] = mnew and the output
// accumulator row o[r*hd : r*hd+hd] *= a (hd a multiple of 8).
TEXT ·flashRowsAVX2(SB), NOSPLIT, $0-64
	MOVQ s+0(FP), DI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ n8+16(FP), R11
	MOVQ rows+24(FP), DX
	MOVQ mrow+32(FP), R12
	MOVQ lrow+40(FP), R13
	MOVQ o+48(FP), BX
	MOVQ hd+56(FP), R10
	SHRQ $3, R10
	TESTQ DX, DX
	JZ   fdone

frow:
	VMOVUPS (DI), Y1
	MOVQ    DI, AX
	MOVQ    R11, CX
	DECQ    CX
	JZ      fhmax

fmax:
	ADDQ   $32, AX
	VMAXPS (AX), Y1, Y1
	DECQ   CX
	JNZ    fmax

fhmax:
	VEXTRACTF128 $1, Y1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0x4e, X1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0xb1, X1, X2
	VMAXPS       X2, X1, X1
	VMOVSS       (R12), X3       // old max
	VMAXSS       X3, X1, X1      // new max
	VMOVSS       X1, (R12)
	VBROADCASTSS X1, Y15
	VSUBSS       X1, X3, X3      // old - new (-Inf on the first tile)
	VBROADCASTSS X3, Y0
	EXPZ(Y0, Y7)                 // Y7 = a in every lane
	VXORPS       Y12, Y12, Y12
	MOVQ         DI, AX
	MOVQ         R11, CX

fexp:
	VMOVUPS (AX), Y0
	VSUBPS  Y15, Y0, Y0
	EXPZ(Y0, Y8)
	VMOVUPS Y8, (AX)
	VADDPS  Y8, Y12, Y12
	ADDQ    $32, AX
	DECQ    CX
	JNZ     fexp

	VEXTRACTF128 $1, Y12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0x4e, X12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0xb1, X12, X13
	VADDPS       X13, X12, X12
	VMOVSS       (R13), X4
	VFMADD231SS  X4, X7, X12     // sum + a*l
	VMOVSS       X12, (R13)

	// o row *= a
	MOVQ R10, CX

fscale:
	VMULPS  (BX), Y7, Y0
	VMOVUPS Y0, (BX)
	ADDQ    $32, BX
	DECQ    CX
	JNZ     fscale

	ADDQ R8, DI
	ADDQ $4, R12
	ADDQ $4, R13
	DECQ DX
	JNZ  frow

fdone:
	VZEROUPPER
	RET

// func flashTileAVX2(m, n, np, hd int, q *float32, ldq int, kt *float32, v *float32, ldv int, o *float32, mrow, lrow *float32, s *float32, scale float32, out *float32, ldo int, last bool)
//
// One tile of the tiled inference path: m query rows (a multiple of 6)
// against a block of n keys (np = n rounded up to 8; hd a multiple of 8),
// with the online softmax. Rows go in groups of 6 (the 6×16 and 6×8 shapes
// of the GEMM micro-kernel). Q rows are q + i*ldq, kt is the block's Kᵀ
// (hd×np, zero columns n..np), V rows are v + p*ldv. o is the output
// accumulator packed
// by groups and column blocks: row 6g+r, column c0+j of the block of width
// w (16, or 8 for the last 8 columns when hd%16 == 8) starting at c0 at
// o[g*6*hd + 6*c0 + r*w + j]. mrow and lrow (m each) are the running max
// and sum. s is 6*np + 12 floats: the group's scores, its 6 rescale factors
// and 6 inverse sums. Per row: mnew = max(mrow, max(S)), a = exp(mrow-mnew),
// P = exp(S-mnew), lrow = a*lrow + sum(P), mrow = mnew, o = a*o + P·V. On
// the last key block (last), o/lrow goes to the output rows out + i*ldo
// instead of o.
TEXT ·flashTileAVX2(SB), NOSPLIT, $0-129
#include "flash_tile_amd64.h"

// func flashTileAVX512(m, n, np, hd int, q *float32, ldq int, kt *float32, v *float32, ldv int, o *float32, mrow, lrow *float32, s *float32, scale float32, out *float32, ldo int, last bool)
//
// flashTileAVX2 on the ZMM registers (AVX512F): the products go by 6×32
// blocks where 32 columns remain (then flashTileAVX2's 6×16 and 6×8), the
// exps 16 lanes at a time (then 8). Every element of S and o is its own
// FMA chain in flashTileAVX2's order, every exp the same operations per
// lane, and the max and sum keep the 8-lane reductions in column order (a
// 16-lane exp block adds its low, then its high half to the 8-lane sum):
// every result is bit-identical to flashTileAVX2's, and o keeps its layout.
#define FLASH_TILE_WIDE
TEXT ·flashTileAVX512(SB), NOSPLIT, $0-129
#include "flash_tile_amd64.h"
#undef FLASH_TILE_WIDE
