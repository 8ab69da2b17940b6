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
	MOVQ ld+40(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R12  // 3*ld bytes
	MOVQ tp+16(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13  // 3*tp bytes
	MOVQ ldo+72(FP), R10
	SHLQ $2, R10
	XORQ R14, R14         // r0: first row of the group

group:
	// ---- S = scale * Q·Kᵀ for rows r0..r0+3 into s ----
	MOVQ  R14, BX
	IMULQ R8, BX
	ADDQ  q+32(FP), BX
	XORQ  AX, AX          // column offset in bytes

scols:
	MOVQ R9, CX
	SUBQ AX, CX
	JZ   smask
	CMPQ CX, $64
	JLT  s4x8
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

sl16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          sl16

	MOVQ         s+88(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+96(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y1, Y1
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y3, Y3
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y5, Y5
	VMULPS       Y8, Y6, Y6
	VMULPS       Y8, Y7, Y7
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, 32(DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y3, 32(DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y5, 32(DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	VMOVUPS      Y7, 32(DX)(R13*1)
	ADDQ         $64, AX
	JMP          scols

s4x8:
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

sl8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	FMA4x8
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          sl8

	MOVQ         s+88(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+96(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y6, Y6
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	ADDQ         $32, AX
	JMP          scols

	// ---- padding columns T..tp-1 := -Inf, by a blend in the last 8 ----
	// (a vector store, so the softmax's loads that follow are forwarded)
smask:
	MOVQ         tp+16(FP), CX
	SUBQ         T+8(FP), CX
	JZ           softmax
	LEAQ         attnMask<>(SB), DX
	VMOVUPS      (DX)(CX*4), Y14
	VBROADCASTSS K_neginf, Y15
	MOVQ         s+88(FP), DX
	ADDQ         R9, DX
	SUBQ         $32, DX          // last 8 columns of row 0
	VMOVUPS      (DX), Y0
	VMOVUPS      (DX)(R9*1), Y1
	VMOVUPS      (DX)(R9*2), Y2
	VMOVUPS      (DX)(R13*1), Y3
	VBLENDVPS    Y14, Y15, Y0, Y0
	VBLENDVPS    Y14, Y15, Y1, Y1
	VBLENDVPS    Y14, Y15, Y2, Y2
	VBLENDVPS    Y14, Y15, Y3, Y3
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, (DX)(R9*1)
	VMOVUPS      Y2, (DX)(R9*2)
	VMOVUPS      Y3, (DX)(R13*1)

	// ---- softmax of the 4 rows (softmaxRowsAVX2's arithmetic) ----
softmax:
	MOVQ s+88(FP), DI
	MOVQ tp+16(FP), R11
	SHRQ $3, R11
	MOVQ $4, DX

srow:
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

	MOVQ AX, DI
	DECQ DX
	JNZ  srow

	// ---- probs rows r0..r0+3 (T floats each) ----
	MOVQ  probs+80(FP), DI
	TESTQ DI, DI
	JZ    pv
	MOVQ  T+8(FP), BX
	IMULQ R14, BX
	LEAQ  (DI)(BX*4), DI
	MOVQ  s+88(FP), SI
	MOVQ  $4, DX

prow:
	MOVQ T+8(FP), CX
	XORQ AX, AX

p8:
	CMPQ    CX, $8
	JLT     p1
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, CX
	JMP     p8

p1:
	TESTQ CX, CX
	JZ    pnext
	MOVL  (SI)(AX*1), BX
	MOVL  BX, (DI)(AX*1)
	ADDQ  $4, AX
	DECQ  CX
	JMP   p1

pnext:
	ADDQ R9, SI
	ADDQ AX, DI
	DECQ DX
	JNZ  prow

	// ---- O = P·V for rows r0..r0+3 ----
pv:
	MOVQ  R14, BX
	IMULQ R10, BX
	ADDQ  out+64(FP), BX
	LEAQ  (R10)(R10*2), R11 // 3*ldo bytes
	XORQ  AX, AX

ocols:
	MOVQ hd+24(FP), CX
	SHLQ $2, CX
	SUBQ AX, CX
	JZ   next
	CMPQ CX, $64
	JLT  o4x8
	MOVQ   s+88(FP), SI
	MOVQ   v+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

ol16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ol16

	LEAQ    (BX)(AX*1), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (DX)(R10*1)
	VMOVUPS Y3, 32(DX)(R10*1)
	VMOVUPS Y4, (DX)(R10*2)
	VMOVUPS Y5, 32(DX)(R10*2)
	VMOVUPS Y6, (DX)(R11*1)
	VMOVUPS Y7, 32(DX)(R11*1)
	ADDQ    $64, AX
	JMP     ocols

o4x8:
	MOVQ   s+88(FP), SI
	MOVQ   v+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

ol8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	FMA4x8
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ol8

	LEAQ    (BX)(AX*1), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y2, (DX)(R10*1)
	VMOVUPS Y4, (DX)(R10*2)
	VMOVUPS Y6, (DX)(R11*1)
	ADDQ    $32, AX
	JMP     ocols

next:
	ADDQ $4, R14
	MOVQ m+0(FP), CX
	CMPQ R14, CX
	JGE  done
	SUBQ $4, CX
	CMPQ R14, CX
	JLE  group
	MOVQ CX, R14
	JMP  group

done:
	VZEROUPPER
	RET

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
TEXT ·attnFusedAVX512(SB), NOSPLIT, $0-100
	VPXORD    Z16, Z16, Z16       // +0: the 16-lane exp's underflow lanes
	VMOVDQU32 attnPairIdx<>(SB), Z17
	MOVQ ld+40(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R12  // 3*ld bytes
	MOVQ tp+16(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13  // 3*tp bytes
	MOVQ ldo+72(FP), R10
	SHLQ $2, R10
	XORQ R14, R14         // r0: first row of the group

group:
	// ---- S = scale * Q·Kᵀ for rows r0..r0+3 into s ----
	MOVQ  R14, BX
	IMULQ R8, BX
	ADDQ  q+32(FP), BX
	XORQ  AX, AX          // column offset in bytes

scols:
	MOVQ R9, CX
	SUBQ AX, CX
	JZ   smask
	CMPQ CX, $128
	JGE  s4x32
	CMPQ CX, $64
	JLT  s4x8
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

sl16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          sl16

	MOVQ         s+88(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+96(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y1, Y1
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y3, Y3
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y5, Y5
	VMULPS       Y8, Y6, Y6
	VMULPS       Y8, Y7, Y7
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, 32(DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y3, 32(DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y5, 32(DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	VMOVUPS      Y7, 32(DX)(R13*1)
	ADDQ         $64, AX
	JMP          scols

s4x32:
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

sl32:
	VMOVUPS      (DI), Z8
	VMOVUPS      64(DI), Z9
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R8*1), Z11
	VBROADCASTSS (SI)(R8*2), Z12
	VBROADCASTSS (SI)(R12*1), Z13
	FMA4x32
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          sl32

	MOVQ         s+88(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+96(FP), Z8
	VMULPS       Z8, Z0, Z0
	VMULPS       Z8, Z1, Z1
	VMULPS       Z8, Z2, Z2
	VMULPS       Z8, Z3, Z3
	VMULPS       Z8, Z4, Z4
	VMULPS       Z8, Z5, Z5
	VMULPS       Z8, Z6, Z6
	VMULPS       Z8, Z7, Z7
	VMOVUPS      Z0, (DX)
	VMOVUPS      Z1, 64(DX)
	VMOVUPS      Z2, (DX)(R9*1)
	VMOVUPS      Z3, 64(DX)(R9*1)
	VMOVUPS      Z4, (DX)(R9*2)
	VMOVUPS      Z5, 64(DX)(R9*2)
	VMOVUPS      Z6, (DX)(R13*1)
	VMOVUPS      Z7, 64(DX)(R13*1)
	ADDQ         $128, AX
	JMP          scols

s4x8:
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

sl8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R12*1), Y13
	FMA4x8
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          sl8

	MOVQ         s+88(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+96(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y6, Y6
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y2, (DX)(R9*1)
	VMOVUPS      Y4, (DX)(R9*2)
	VMOVUPS      Y6, (DX)(R13*1)
	ADDQ         $32, AX
	JMP          scols

	// ---- padding columns T..tp-1 := -Inf, by a blend in the last 8 ----
	// (a vector store, so the softmax's loads that follow are forwarded)
smask:
	MOVQ         tp+16(FP), CX
	SUBQ         T+8(FP), CX
	JZ           softmax
	LEAQ         attnMask<>(SB), DX
	VMOVUPS      (DX)(CX*4), Y14
	VBROADCASTSS K_neginf, Y15
	MOVQ         s+88(FP), DX
	ADDQ         R9, DX
	SUBQ         $32, DX          // last 8 columns of row 0
	VMOVUPS      (DX), Y0
	VMOVUPS      (DX)(R9*1), Y1
	VMOVUPS      (DX)(R9*2), Y2
	VMOVUPS      (DX)(R13*1), Y3
	VBLENDVPS    Y14, Y15, Y0, Y0
	VBLENDVPS    Y14, Y15, Y1, Y1
	VBLENDVPS    Y14, Y15, Y2, Y2
	VBLENDVPS    Y14, Y15, Y3, Y3
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, (DX)(R9*1)
	VMOVUPS      Y2, (DX)(R9*2)
	VMOVUPS      Y3, (DX)(R13*1)

	// ---- softmax of the 4 rows (softmaxRowsAVX2's arithmetic) ----
softmax:
	MOVQ s+88(FP), DI
	MOVQ tp+16(FP), R11
	SHRQ $3, R11
	MOVQ $2, DX

	// Two rows per ZMM: row r0+2i in the low 8 lanes, r0+2i+1 in the high
	// 8, so each row keeps softmaxRowsAVX2's 8-lane reductions.
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

	// ---- probs rows r0..r0+3 (T floats each) ----
	MOVQ  probs+80(FP), DI
	TESTQ DI, DI
	JZ    pv
	MOVQ  T+8(FP), BX
	IMULQ R14, BX
	LEAQ  (DI)(BX*4), DI
	MOVQ  s+88(FP), SI
	MOVQ  $4, DX

prow:
	MOVQ T+8(FP), CX
	XORQ AX, AX

p8:
	CMPQ    CX, $8
	JLT     p1
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, CX
	JMP     p8

p1:
	TESTQ CX, CX
	JZ    pnext
	MOVL  (SI)(AX*1), BX
	MOVL  BX, (DI)(AX*1)
	ADDQ  $4, AX
	DECQ  CX
	JMP   p1

pnext:
	ADDQ R9, SI
	ADDQ AX, DI
	DECQ DX
	JNZ  prow

	// ---- O = P·V for rows r0..r0+3 ----
pv:
	MOVQ  R14, BX
	IMULQ R10, BX
	ADDQ  out+64(FP), BX
	LEAQ  (R10)(R10*2), R11 // 3*ldo bytes
	XORQ  AX, AX

ocols:
	MOVQ hd+24(FP), CX
	SHLQ $2, CX
	SUBQ AX, CX
	JZ   next
	CMPQ CX, $128
	JGE  o4x32
	CMPQ CX, $64
	JLT  o4x8
	MOVQ   s+88(FP), SI
	MOVQ   v+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

ol16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ol16

	LEAQ    (BX)(AX*1), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (DX)(R10*1)
	VMOVUPS Y3, 32(DX)(R10*1)
	VMOVUPS Y4, (DX)(R10*2)
	VMOVUPS Y5, 32(DX)(R10*2)
	VMOVUPS Y6, (DX)(R11*1)
	VMOVUPS Y7, 32(DX)(R11*1)
	ADDQ    $64, AX
	JMP     ocols

o4x32:
	MOVQ   s+88(FP), SI
	MOVQ   v+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

ol32:
	VMOVUPS      (DI), Z8
	VMOVUPS      64(DI), Z9
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R9*1), Z11
	VBROADCASTSS (SI)(R9*2), Z12
	VBROADCASTSS (SI)(R13*1), Z13
	FMA4x32
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ol32

	LEAQ    (BX)(AX*1), DX
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, (DX)(R10*1)
	VMOVUPS Z3, 64(DX)(R10*1)
	VMOVUPS Z4, (DX)(R10*2)
	VMOVUPS Z5, 64(DX)(R10*2)
	VMOVUPS Z6, (DX)(R11*1)
	VMOVUPS Z7, 64(DX)(R11*1)
	ADDQ    $128, AX
	JMP     ocols

o4x8:
	MOVQ   s+88(FP), SI
	MOVQ   v+56(FP), DI
	ADDQ   AX, DI
	MOVQ   T+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

ol8:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R9*1), Y11
	VBROADCASTSS (SI)(R9*2), Y12
	VBROADCASTSS (SI)(R13*1), Y13
	FMA4x8
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNZ          ol8

	LEAQ    (BX)(AX*1), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y2, (DX)(R10*1)
	VMOVUPS Y4, (DX)(R10*2)
	VMOVUPS Y6, (DX)(R11*1)
	ADDQ    $32, AX
	JMP     ocols

next:
	ADDQ $4, R14
	MOVQ m+0(FP), CX
	CMPQ R14, CX
	JGE  done
	SUBQ $4, CX
	CMPQ R14, CX
	JLE  group
	MOVQ CX, R14
	JMP  group

done:
	VZEROUPPER
	RET

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
	MOVQ np+16(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13  // 3*np bytes
	XORQ R14, R14         // r0

tgroup:
	MOVQ  ldq+40(FP), R8
	SHLQ  $2, R8
	LEAQ  (R8)(R8*2), R11 // 3*ldq bytes
	LEAQ  (R8)(R8*4), R10 // 5*ldq bytes
	LEAQ  (R9)(R9*4), R12 // 5*np bytes
	MOVQ  R14, BX
	IMULQ R8, BX
	ADDQ  q+32(FP), BX    // the group's first query row
	XORQ  AX, AX

tscols:
	MOVQ R9, CX
	SUBQ AX, CX
	JZ   tmask
	CMPQ CX, $64
	JLT  ts6x8
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
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

tsl16:
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R8*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS (SI)(R8*2), Y2
	VBROADCASTSS (SI)(R11*1), Y3
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
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          tsl16

	MOVQ         s+96(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+104(FP), Y0
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
	VMOVUPS      Y4, (DX)
	VMOVUPS      Y5, 32(DX)
	VMOVUPS      Y6, (DX)(R9*1)
	VMOVUPS      Y7, 32(DX)(R9*1)
	VMOVUPS      Y8, (DX)(R9*2)
	VMOVUPS      Y9, 32(DX)(R9*2)
	VMOVUPS      Y10, (DX)(R13*1)
	VMOVUPS      Y11, 32(DX)(R13*1)
	VMOVUPS      Y12, (DX)(R9*4)
	VMOVUPS      Y13, 32(DX)(R9*4)
	VMOVUPS      Y14, (DX)(R12*1)
	VMOVUPS      Y15, 32(DX)(R12*1)
	ADDQ         $64, AX
	JMP          tscols

ts6x8:
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6
	VXORPS Y8, Y8, Y8
	VXORPS Y10, Y10, Y10
	VXORPS Y12, Y12, Y12
	VXORPS Y14, Y14, Y14

tsl8:
	VMOVUPS      (DI), Y0
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R8*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y0, Y3, Y6
	VBROADCASTSS (SI)(R8*2), Y2
	VBROADCASTSS (SI)(R11*1), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y0, Y3, Y10
	VBROADCASTSS (SI)(R8*4), Y2
	VBROADCASTSS (SI)(R10*1), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y0, Y3, Y14
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          tsl8

	MOVQ         s+96(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+104(FP), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y12, Y12
	VMULPS       Y0, Y14, Y14
	VMOVUPS      Y4, (DX)
	VMOVUPS      Y6, (DX)(R9*1)
	VMOVUPS      Y8, (DX)(R9*2)
	VMOVUPS      Y10, (DX)(R13*1)
	VMOVUPS      Y12, (DX)(R9*4)
	VMOVUPS      Y14, (DX)(R12*1)
	ADDQ         $32, AX
	JMP          tscols

tmask:
	MOVQ         np+16(FP), CX
	SUBQ         n+8(FP), CX
	JZ           tsoft
	LEAQ         attnMask<>(SB), DX
	VMOVUPS      (DX)(CX*4), Y14
	VBROADCASTSS K_neginf, Y15
	MOVQ         s+96(FP), DX
	ADDQ         R9, DX
	SUBQ         $32, DX
	VMOVUPS      (DX), Y0
	VMOVUPS      (DX)(R9*1), Y1
	VMOVUPS      (DX)(R9*2), Y2
	VMOVUPS      (DX)(R13*1), Y3
	VMOVUPS      (DX)(R9*4), Y4
	VMOVUPS      (DX)(R12*1), Y5
	VBLENDVPS    Y14, Y15, Y0, Y0
	VBLENDVPS    Y14, Y15, Y1, Y1
	VBLENDVPS    Y14, Y15, Y2, Y2
	VBLENDVPS    Y14, Y15, Y3, Y3
	VBLENDVPS    Y14, Y15, Y4, Y4
	VBLENDVPS    Y14, Y15, Y5, Y5
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, (DX)(R9*1)
	VMOVUPS      Y2, (DX)(R9*2)
	VMOVUPS      Y3, (DX)(R13*1)
	VMOVUPS      Y4, (DX)(R9*4)
	VMOVUPS      Y5, (DX)(R12*1)

	// ---- online softmax of the 6 rows ----
tsoft:
	MOVQ  s+96(FP), DI
	MOVQ  R9, R8
	IMULQ $6, R8
	ADDQ  DI, R8           // the 6 rescale factors
	MOVQ  mrow+80(FP), SI
	LEAQ  (SI)(R14*4), SI
	MOVQ  lrow+88(FP), BX
	LEAQ  (BX)(R14*4), BX
	MOVQ  np+16(FP), R11
	SHRQ  $3, R11
	MOVQ  $6, DX

trow:
	VMOVUPS (DI), Y1
	MOVQ    DI, AX
	MOVQ    R11, CX
	DECQ    CX
	JZ      thmax

tmax:
	ADDQ   $32, AX
	VMAXPS (AX), Y1, Y1
	DECQ   CX
	JNZ    tmax

thmax:
	VEXTRACTF128 $1, Y1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0x4e, X1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0xb1, X1, X2
	VMAXPS       X2, X1, X1
	VMOVSS       (SI), X3
	VMAXSS       X3, X1, X1
	VMOVSS       X1, (SI)
	VBROADCASTSS X1, Y15
	VSUBSS       X1, X3, X3
	VBROADCASTSS X3, Y0
	EXPZ(Y0, Y7)
	VMOVSS       X7, (R8)
	VXORPS       Y12, Y12, Y12
	MOVQ         DI, AX
	MOVQ         R11, CX

texp:
	VMOVUPS (AX), Y0
	VSUBPS  Y15, Y0, Y0
	EXPZ(Y0, Y8)
	VMOVUPS Y8, (AX)
	VADDPS  Y8, Y12, Y12
	ADDQ    $32, AX
	DECQ    CX
	JNZ     texp

	VEXTRACTF128 $1, Y12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0x4e, X12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0xb1, X12, X13
	VADDPS       X13, X12, X12
	VMOVSS       (BX), X4
	VFMADD231SS  X4, X7, X12
	VMOVSS       X12, (BX)
	CMPB         last+128(FP), $0
	JEQ          tnoinv
	VMOVSS       K_one, X13
	VDIVSS       X12, X13, X13
	VMOVSS       X13, 24(R8)

tnoinv:
	MOVQ AX, DI
	ADDQ $4, SI
	ADDQ $4, BX
	ADDQ $4, R8
	DECQ DX
	JNZ  trow

	// ---- o = a*o + P·V for the 6 rows ----
	SUBQ  $24, R8          // back to the rescale factors
	MOVQ  ldv+64(FP), R10
	SHLQ  $2, R10
	LEAQ  (R9)(R9*4), R12  // 5*np bytes
	MOVQ  hd+24(FP), BX
	IMULQ R14, BX
	SHLQ  $2, BX
	ADDQ  o+72(FP), BX     // the group's accumulator
	XORQ  AX, AX

tocols:
	MOVQ hd+24(FP), CX
	SHLQ $2, CX
	SUBQ AX, CX
	JZ   tnext
	CMPQ CX, $64
	JLT  to6x8
	LEAQ         (AX)(AX*2), DX
	LEAQ         (BX)(DX*2), DX  // block of 6 rows x 16 at o + 6*c0
	VBROADCASTSS (R8), Y0
	VMULPS       (DX), Y0, Y4
	VMULPS       32(DX), Y0, Y5
	VBROADCASTSS 4(R8), Y0
	VMULPS       64(DX), Y0, Y6
	VMULPS       96(DX), Y0, Y7
	VBROADCASTSS 8(R8), Y0
	VMULPS       128(DX), Y0, Y8
	VMULPS       160(DX), Y0, Y9
	VBROADCASTSS 12(R8), Y0
	VMULPS       192(DX), Y0, Y10
	VMULPS       224(DX), Y0, Y11
	VBROADCASTSS 16(R8), Y0
	VMULPS       256(DX), Y0, Y12
	VMULPS       288(DX), Y0, Y13
	VBROADCASTSS 20(R8), Y0
	VMULPS       320(DX), Y0, Y14
	VMULPS       352(DX), Y0, Y15
	MOVQ         s+96(FP), SI
	MOVQ         v+56(FP), DI
	ADDQ         AX, DI
	MOVQ         n+8(FP), CX

tol16:
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R9*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS (SI)(R9*2), Y2
	VBROADCASTSS (SI)(R13*1), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y1, Y2, Y9
	VFMADD231PS  Y0, Y3, Y10
	VFMADD231PS  Y1, Y3, Y11
	VBROADCASTSS (SI)(R9*4), Y2
	VBROADCASTSS (SI)(R12*1), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y1, Y2, Y13
	VFMADD231PS  Y0, Y3, Y14
	VFMADD231PS  Y1, Y3, Y15
	ADDQ         $4, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          tol16

	CMPB    last+128(FP), $0
	JNE     tout16
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, 64(DX)
	VMOVUPS Y7, 96(DX)
	VMOVUPS Y8, 128(DX)
	VMOVUPS Y9, 160(DX)
	VMOVUPS Y10, 192(DX)
	VMOVUPS Y11, 224(DX)
	VMOVUPS Y12, 256(DX)
	VMOVUPS Y13, 288(DX)
	VMOVUPS Y14, 320(DX)
	VMOVUPS Y15, 352(DX)
	ADDQ    $64, AX
	JMP     tocols

tout16:
	VBROADCASTSS 24(R8), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y5, Y5
	VBROADCASTSS 28(R8), Y0
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y7, Y7
	VBROADCASTSS 32(R8), Y0
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y9, Y9
	VBROADCASTSS 36(R8), Y0
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y11, Y11
	VBROADCASTSS 40(R8), Y0
	VMULPS       Y0, Y12, Y12
	VMULPS       Y0, Y13, Y13
	VBROADCASTSS 44(R8), Y0
	VMULPS       Y0, Y14, Y14
	VMULPS       Y0, Y15, Y15
	MOVQ         ldo+120(FP), DI
	SHLQ         $2, DI
	MOVQ         R14, SI
	IMULQ        DI, SI
	ADDQ         out+112(FP), SI
	ADDQ         AX, SI
	LEAQ         (DI)(DI*2), CX
	VMOVUPS      Y4, (SI)
	VMOVUPS      Y5, 32(SI)
	VMOVUPS      Y6, (SI)(DI*1)
	VMOVUPS      Y7, 32(SI)(DI*1)
	VMOVUPS      Y8, (SI)(DI*2)
	VMOVUPS      Y9, 32(SI)(DI*2)
	VMOVUPS      Y10, (SI)(CX*1)
	VMOVUPS      Y11, 32(SI)(CX*1)
	LEAQ         (SI)(DI*4), SI
	VMOVUPS      Y12, (SI)
	VMOVUPS      Y13, 32(SI)
	VMOVUPS      Y14, (SI)(DI*1)
	VMOVUPS      Y15, 32(SI)(DI*1)
	ADDQ         $64, AX
	JMP          tocols

to6x8:
	LEAQ         (AX)(AX*2), DX
	LEAQ         (BX)(DX*2), DX  // block of 6 rows x 8 at o + 6*c0
	VBROADCASTSS (R8), Y0
	VMULPS       (DX), Y0, Y4
	VBROADCASTSS 4(R8), Y0
	VMULPS       32(DX), Y0, Y6
	VBROADCASTSS 8(R8), Y0
	VMULPS       64(DX), Y0, Y8
	VBROADCASTSS 12(R8), Y0
	VMULPS       96(DX), Y0, Y10
	VBROADCASTSS 16(R8), Y0
	VMULPS       128(DX), Y0, Y12
	VBROADCASTSS 20(R8), Y0
	VMULPS       160(DX), Y0, Y14
	MOVQ         s+96(FP), SI
	MOVQ         v+56(FP), DI
	ADDQ         AX, DI
	MOVQ         n+8(FP), CX

tol8:
	VMOVUPS      (DI), Y0
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R9*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y0, Y3, Y6
	VBROADCASTSS (SI)(R9*2), Y2
	VBROADCASTSS (SI)(R13*1), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y0, Y3, Y10
	VBROADCASTSS (SI)(R9*4), Y2
	VBROADCASTSS (SI)(R12*1), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y0, Y3, Y14
	ADDQ         $4, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          tol8

	CMPB    last+128(FP), $0
	JNE     tout8
	VMOVUPS Y4, (DX)
	VMOVUPS Y6, 32(DX)
	VMOVUPS Y8, 64(DX)
	VMOVUPS Y10, 96(DX)
	VMOVUPS Y12, 128(DX)
	VMOVUPS Y14, 160(DX)
	ADDQ    $32, AX
	JMP     tocols

tout8:
	VBROADCASTSS 24(R8), Y0
	VMULPS       Y0, Y4, Y4
	VBROADCASTSS 28(R8), Y0
	VMULPS       Y0, Y6, Y6
	VBROADCASTSS 32(R8), Y0
	VMULPS       Y0, Y8, Y8
	VBROADCASTSS 36(R8), Y0
	VMULPS       Y0, Y10, Y10
	VBROADCASTSS 40(R8), Y0
	VMULPS       Y0, Y12, Y12
	VBROADCASTSS 44(R8), Y0
	VMULPS       Y0, Y14, Y14
	MOVQ         ldo+120(FP), DI
	SHLQ         $2, DI
	MOVQ         R14, SI
	IMULQ        DI, SI
	ADDQ         out+112(FP), SI
	ADDQ         AX, SI
	LEAQ         (DI)(DI*2), CX
	VMOVUPS      Y4, (SI)
	VMOVUPS      Y6, (SI)(DI*1)
	VMOVUPS      Y8, (SI)(DI*2)
	VMOVUPS      Y10, (SI)(CX*1)
	LEAQ         (SI)(DI*4), SI
	VMOVUPS      Y12, (SI)
	VMOVUPS      Y14, (SI)(DI*1)
	ADDQ         $32, AX
	JMP          tocols

tnext:
	ADDQ $6, R14
	CMPQ R14, m+0(FP)
	JLT  tgroup
	VZEROUPPER
	RET

// func flashTileAVX512(m, n, np, hd int, q *float32, ldq int, kt *float32, v *float32, ldv int, o *float32, mrow, lrow *float32, s *float32, scale float32, out *float32, ldo int, last bool)
//
// flashTileAVX2 on the ZMM registers (AVX512F): the products go by 6×32
// blocks where 32 columns remain (then flashTileAVX2's 6×16 and 6×8), the
// exps 16 lanes at a time (then 8). Every element of S and o is its own
// FMA chain in flashTileAVX2's order, every exp the same operations per
// lane, and the max and sum keep the 8-lane reductions in column order (a
// 16-lane exp block adds its low, then its high half to the 8-lane sum):
// every result is bit-identical to flashTileAVX2's, and o keeps its layout.
TEXT ·flashTileAVX512(SB), NOSPLIT, $0-129
	MOVQ np+16(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13  // 3*np bytes
	XORQ R14, R14         // r0
	VPXORD Z16, Z16, Z16  // +0: the 16-lane exp's underflow lanes

zgroup:
	MOVQ  ldq+40(FP), R8
	SHLQ  $2, R8
	LEAQ  (R8)(R8*2), R11 // 3*ldq bytes
	LEAQ  (R8)(R8*4), R10 // 5*ldq bytes
	LEAQ  (R9)(R9*4), R12 // 5*np bytes
	MOVQ  R14, BX
	IMULQ R8, BX
	ADDQ  q+32(FP), BX    // the group's first query row
	XORQ  AX, AX

zscols:
	MOVQ R9, CX
	SUBQ AX, CX
	JZ   zmask
	CMPQ CX, $128
	JGE  zs6x32
	CMPQ CX, $64
	JLT  zs6x8
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
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

zsl16:
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R8*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS (SI)(R8*2), Y2
	VBROADCASTSS (SI)(R11*1), Y3
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
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          zsl16

	MOVQ         s+96(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+104(FP), Y0
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
	VMOVUPS      Y4, (DX)
	VMOVUPS      Y5, 32(DX)
	VMOVUPS      Y6, (DX)(R9*1)
	VMOVUPS      Y7, 32(DX)(R9*1)
	VMOVUPS      Y8, (DX)(R9*2)
	VMOVUPS      Y9, 32(DX)(R9*2)
	VMOVUPS      Y10, (DX)(R13*1)
	VMOVUPS      Y11, 32(DX)(R13*1)
	VMOVUPS      Y12, (DX)(R9*4)
	VMOVUPS      Y13, 32(DX)(R9*4)
	VMOVUPS      Y14, (DX)(R12*1)
	VMOVUPS      Y15, 32(DX)(R12*1)
	ADDQ         $64, AX
	JMP          zscols

zs6x32:
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

zsl32:
	VMOVUPS      (DI), Z0
	VMOVUPS      64(DI), Z1
	VBROADCASTSS (SI), Z2
	VBROADCASTSS (SI)(R8*1), Z3
	VFMADD231PS  Z0, Z2, Z4
	VFMADD231PS  Z1, Z2, Z5
	VFMADD231PS  Z0, Z3, Z6
	VFMADD231PS  Z1, Z3, Z7
	VBROADCASTSS (SI)(R8*2), Z2
	VBROADCASTSS (SI)(R11*1), Z3
	VFMADD231PS  Z0, Z2, Z8
	VFMADD231PS  Z1, Z2, Z9
	VFMADD231PS  Z0, Z3, Z10
	VFMADD231PS  Z1, Z3, Z11
	VBROADCASTSS (SI)(R8*4), Z2
	VBROADCASTSS (SI)(R10*1), Z3
	VFMADD231PS  Z0, Z2, Z12
	VFMADD231PS  Z1, Z2, Z13
	VFMADD231PS  Z0, Z3, Z14
	VFMADD231PS  Z1, Z3, Z15
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          zsl32

	MOVQ         s+96(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+104(FP), Z0
	VMULPS       Z0, Z4, Z4
	VMULPS       Z0, Z5, Z5
	VMULPS       Z0, Z6, Z6
	VMULPS       Z0, Z7, Z7
	VMULPS       Z0, Z8, Z8
	VMULPS       Z0, Z9, Z9
	VMULPS       Z0, Z10, Z10
	VMULPS       Z0, Z11, Z11
	VMULPS       Z0, Z12, Z12
	VMULPS       Z0, Z13, Z13
	VMULPS       Z0, Z14, Z14
	VMULPS       Z0, Z15, Z15
	VMOVUPS      Z4, (DX)
	VMOVUPS      Z5, 64(DX)
	VMOVUPS      Z6, (DX)(R9*1)
	VMOVUPS      Z7, 64(DX)(R9*1)
	VMOVUPS      Z8, (DX)(R9*2)
	VMOVUPS      Z9, 64(DX)(R9*2)
	VMOVUPS      Z10, (DX)(R13*1)
	VMOVUPS      Z11, 64(DX)(R13*1)
	VMOVUPS      Z12, (DX)(R9*4)
	VMOVUPS      Z13, 64(DX)(R9*4)
	VMOVUPS      Z14, (DX)(R12*1)
	VMOVUPS      Z15, 64(DX)(R12*1)
	ADDQ         $128, AX
	JMP          zscols

zs6x8:
	MOVQ   BX, SI
	MOVQ   kt+48(FP), DI
	ADDQ   AX, DI
	MOVQ   hd+24(FP), CX
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6
	VXORPS Y8, Y8, Y8
	VXORPS Y10, Y10, Y10
	VXORPS Y12, Y12, Y12
	VXORPS Y14, Y14, Y14

zsl8:
	VMOVUPS      (DI), Y0
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R8*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y0, Y3, Y6
	VBROADCASTSS (SI)(R8*2), Y2
	VBROADCASTSS (SI)(R11*1), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y0, Y3, Y10
	VBROADCASTSS (SI)(R8*4), Y2
	VBROADCASTSS (SI)(R10*1), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y0, Y3, Y14
	ADDQ         $4, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          zsl8

	MOVQ         s+96(FP), DX
	ADDQ         AX, DX
	VBROADCASTSS scale+104(FP), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y12, Y12
	VMULPS       Y0, Y14, Y14
	VMOVUPS      Y4, (DX)
	VMOVUPS      Y6, (DX)(R9*1)
	VMOVUPS      Y8, (DX)(R9*2)
	VMOVUPS      Y10, (DX)(R13*1)
	VMOVUPS      Y12, (DX)(R9*4)
	VMOVUPS      Y14, (DX)(R12*1)
	ADDQ         $32, AX
	JMP          zscols

zmask:
	MOVQ         np+16(FP), CX
	SUBQ         n+8(FP), CX
	JZ           zsoft
	LEAQ         attnMask<>(SB), DX
	VMOVUPS      (DX)(CX*4), Y14
	VBROADCASTSS K_neginf, Y15
	MOVQ         s+96(FP), DX
	ADDQ         R9, DX
	SUBQ         $32, DX
	VMOVUPS      (DX), Y0
	VMOVUPS      (DX)(R9*1), Y1
	VMOVUPS      (DX)(R9*2), Y2
	VMOVUPS      (DX)(R13*1), Y3
	VMOVUPS      (DX)(R9*4), Y4
	VMOVUPS      (DX)(R12*1), Y5
	VBLENDVPS    Y14, Y15, Y0, Y0
	VBLENDVPS    Y14, Y15, Y1, Y1
	VBLENDVPS    Y14, Y15, Y2, Y2
	VBLENDVPS    Y14, Y15, Y3, Y3
	VBLENDVPS    Y14, Y15, Y4, Y4
	VBLENDVPS    Y14, Y15, Y5, Y5
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, (DX)(R9*1)
	VMOVUPS      Y2, (DX)(R9*2)
	VMOVUPS      Y3, (DX)(R13*1)
	VMOVUPS      Y4, (DX)(R9*4)
	VMOVUPS      Y5, (DX)(R12*1)

	// ---- online softmax of the 6 rows ----
zsoft:
	MOVQ  s+96(FP), DI
	MOVQ  R9, R8
	IMULQ $6, R8
	ADDQ  DI, R8           // the 6 rescale factors
	MOVQ  mrow+80(FP), SI
	LEAQ  (SI)(R14*4), SI
	MOVQ  lrow+88(FP), BX
	LEAQ  (BX)(R14*4), BX
	MOVQ  np+16(FP), R11
	SHRQ  $3, R11
	MOVQ  $6, DX

zrow:
	VMOVUPS (DI), Y1
	MOVQ    DI, AX
	MOVQ    R11, CX
	DECQ    CX
	JZ      zhmax

zmax:
	ADDQ   $32, AX
	VMAXPS (AX), Y1, Y1
	DECQ   CX
	JNZ    zmax

zhmax:
	VEXTRACTF128 $1, Y1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0x4e, X1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0xb1, X1, X2
	VMAXPS       X2, X1, X1
	VMOVSS       (SI), X3
	VMAXSS       X3, X1, X1
	VMOVSS       X1, (SI)
	VBROADCASTSS X1, Z15
	VSUBSS       X1, X3, X3
	VBROADCASTSS X3, Y0
	EXPZ(Y0, Y7)
	VMOVSS       X7, (R8)
	VXORPS       Y12, Y12, Y12
	MOVQ         DI, AX
	MOVQ         R11, CX

	// 16 lanes at a time; each half joins the 8-lane sum in column order.
zexp16:
	CMPQ          CX, $2
	JLT           zexp8
	VMOVUPS       (AX), Z0
	VSUBPS        Z15, Z0, Z0
	EXPZ16(Z0, Z8)
	VMOVUPS       Z8, (AX)
	VADDPS        Y8, Y12, Y12
	VEXTRACTF64X4 $1, Z8, Y9
	VADDPS        Y9, Y12, Y12
	ADDQ          $64, AX
	SUBQ          $2, CX
	JMP           zexp16

zexp8:
	TESTQ   CX, CX
	JZ      zsum
	VMOVUPS (AX), Y0
	VSUBPS  Y15, Y0, Y0
	EXPZ(Y0, Y8)
	VMOVUPS Y8, (AX)
	VADDPS  Y8, Y12, Y12
	ADDQ    $32, AX

zsum:

	VEXTRACTF128 $1, Y12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0x4e, X12, X13
	VADDPS       X13, X12, X12
	VPERMILPS    $0xb1, X12, X13
	VADDPS       X13, X12, X12
	VMOVSS       (BX), X4
	VFMADD231SS  X4, X7, X12
	VMOVSS       X12, (BX)
	CMPB         last+128(FP), $0
	JEQ          znoinv
	VMOVSS       K_one, X13
	VDIVSS       X12, X13, X13
	VMOVSS       X13, 24(R8)

znoinv:
	MOVQ AX, DI
	ADDQ $4, SI
	ADDQ $4, BX
	ADDQ $4, R8
	DECQ DX
	JNZ  zrow

	// ---- o = a*o + P·V for the 6 rows ----
	SUBQ  $24, R8          // back to the rescale factors
	MOVQ  ldv+64(FP), R10
	SHLQ  $2, R10
	LEAQ  (R9)(R9*4), R12  // 5*np bytes
	MOVQ  hd+24(FP), BX
	IMULQ R14, BX
	SHLQ  $2, BX
	ADDQ  o+72(FP), BX     // the group's accumulator
	XORQ  AX, AX

zocols:
	MOVQ hd+24(FP), CX
	SHLQ $2, CX
	SUBQ AX, CX
	JZ   znext
	CMPQ CX, $128
	JGE  zo6x32
	CMPQ CX, $64
	JLT  zo6x8
	LEAQ         (AX)(AX*2), DX
	LEAQ         (BX)(DX*2), DX  // block of 6 rows x 16 at o + 6*c0
	VBROADCASTSS (R8), Y0
	VMULPS       (DX), Y0, Y4
	VMULPS       32(DX), Y0, Y5
	VBROADCASTSS 4(R8), Y0
	VMULPS       64(DX), Y0, Y6
	VMULPS       96(DX), Y0, Y7
	VBROADCASTSS 8(R8), Y0
	VMULPS       128(DX), Y0, Y8
	VMULPS       160(DX), Y0, Y9
	VBROADCASTSS 12(R8), Y0
	VMULPS       192(DX), Y0, Y10
	VMULPS       224(DX), Y0, Y11
	VBROADCASTSS 16(R8), Y0
	VMULPS       256(DX), Y0, Y12
	VMULPS       288(DX), Y0, Y13
	VBROADCASTSS 20(R8), Y0
	VMULPS       320(DX), Y0, Y14
	VMULPS       352(DX), Y0, Y15
	MOVQ         s+96(FP), SI
	MOVQ         v+56(FP), DI
	ADDQ         AX, DI
	MOVQ         n+8(FP), CX

zol16:
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R9*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS (SI)(R9*2), Y2
	VBROADCASTSS (SI)(R13*1), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y1, Y2, Y9
	VFMADD231PS  Y0, Y3, Y10
	VFMADD231PS  Y1, Y3, Y11
	VBROADCASTSS (SI)(R9*4), Y2
	VBROADCASTSS (SI)(R12*1), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y1, Y2, Y13
	VFMADD231PS  Y0, Y3, Y14
	VFMADD231PS  Y1, Y3, Y15
	ADDQ         $4, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          zol16

	CMPB    last+128(FP), $0
	JNE     zout16
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, 64(DX)
	VMOVUPS Y7, 96(DX)
	VMOVUPS Y8, 128(DX)
	VMOVUPS Y9, 160(DX)
	VMOVUPS Y10, 192(DX)
	VMOVUPS Y11, 224(DX)
	VMOVUPS Y12, 256(DX)
	VMOVUPS Y13, 288(DX)
	VMOVUPS Y14, 320(DX)
	VMOVUPS Y15, 352(DX)
	ADDQ    $64, AX
	JMP     zocols

zout16:
	VBROADCASTSS 24(R8), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y5, Y5
	VBROADCASTSS 28(R8), Y0
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y7, Y7
	VBROADCASTSS 32(R8), Y0
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y9, Y9
	VBROADCASTSS 36(R8), Y0
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y11, Y11
	VBROADCASTSS 40(R8), Y0
	VMULPS       Y0, Y12, Y12
	VMULPS       Y0, Y13, Y13
	VBROADCASTSS 44(R8), Y0
	VMULPS       Y0, Y14, Y14
	VMULPS       Y0, Y15, Y15
	MOVQ         ldo+120(FP), DI
	SHLQ         $2, DI
	MOVQ         R14, SI
	IMULQ        DI, SI
	ADDQ         out+112(FP), SI
	ADDQ         AX, SI
	LEAQ         (DI)(DI*2), CX
	VMOVUPS      Y4, (SI)
	VMOVUPS      Y5, 32(SI)
	VMOVUPS      Y6, (SI)(DI*1)
	VMOVUPS      Y7, 32(SI)(DI*1)
	VMOVUPS      Y8, (SI)(DI*2)
	VMOVUPS      Y9, 32(SI)(DI*2)
	VMOVUPS      Y10, (SI)(CX*1)
	VMOVUPS      Y11, 32(SI)(CX*1)
	LEAQ         (SI)(DI*4), SI
	VMOVUPS      Y12, (SI)
	VMOVUPS      Y13, 32(SI)
	VMOVUPS      Y14, (SI)(DI*1)
	VMOVUPS      Y15, 32(SI)(DI*1)
	ADDQ         $64, AX
	JMP          zocols

	// 6 rows x 32: the 16-wide blocks at c0 (DX) and c0+16 (DX+384).
zo6x32:
	LEAQ         (AX)(AX*2), DX
	LEAQ         (BX)(DX*2), DX
	VBROADCASTSS (R8), Z0
	VMULPS       (DX), Z0, Z4
	VMULPS       384(DX), Z0, Z5
	VBROADCASTSS 4(R8), Z0
	VMULPS       64(DX), Z0, Z6
	VMULPS       448(DX), Z0, Z7
	VBROADCASTSS 8(R8), Z0
	VMULPS       128(DX), Z0, Z8
	VMULPS       512(DX), Z0, Z9
	VBROADCASTSS 12(R8), Z0
	VMULPS       192(DX), Z0, Z10
	VMULPS       576(DX), Z0, Z11
	VBROADCASTSS 16(R8), Z0
	VMULPS       256(DX), Z0, Z12
	VMULPS       640(DX), Z0, Z13
	VBROADCASTSS 20(R8), Z0
	VMULPS       320(DX), Z0, Z14
	VMULPS       704(DX), Z0, Z15
	MOVQ         s+96(FP), SI
	MOVQ         v+56(FP), DI
	ADDQ         AX, DI
	MOVQ         n+8(FP), CX

zol32:
	VMOVUPS      (DI), Z0
	VMOVUPS      64(DI), Z1
	VBROADCASTSS (SI), Z2
	VBROADCASTSS (SI)(R9*1), Z3
	VFMADD231PS  Z0, Z2, Z4
	VFMADD231PS  Z1, Z2, Z5
	VFMADD231PS  Z0, Z3, Z6
	VFMADD231PS  Z1, Z3, Z7
	VBROADCASTSS (SI)(R9*2), Z2
	VBROADCASTSS (SI)(R13*1), Z3
	VFMADD231PS  Z0, Z2, Z8
	VFMADD231PS  Z1, Z2, Z9
	VFMADD231PS  Z0, Z3, Z10
	VFMADD231PS  Z1, Z3, Z11
	VBROADCASTSS (SI)(R9*4), Z2
	VBROADCASTSS (SI)(R12*1), Z3
	VFMADD231PS  Z0, Z2, Z12
	VFMADD231PS  Z1, Z2, Z13
	VFMADD231PS  Z0, Z3, Z14
	VFMADD231PS  Z1, Z3, Z15
	ADDQ         $4, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          zol32

	CMPB    last+128(FP), $0
	JNE     zout32
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, 384(DX)
	VMOVUPS Z6, 64(DX)
	VMOVUPS Z7, 448(DX)
	VMOVUPS Z8, 128(DX)
	VMOVUPS Z9, 512(DX)
	VMOVUPS Z10, 192(DX)
	VMOVUPS Z11, 576(DX)
	VMOVUPS Z12, 256(DX)
	VMOVUPS Z13, 640(DX)
	VMOVUPS Z14, 320(DX)
	VMOVUPS Z15, 704(DX)
	ADDQ    $128, AX
	JMP     zocols

zout32:
	VBROADCASTSS 24(R8), Z0
	VMULPS       Z0, Z4, Z4
	VMULPS       Z0, Z5, Z5
	VBROADCASTSS 28(R8), Z0
	VMULPS       Z0, Z6, Z6
	VMULPS       Z0, Z7, Z7
	VBROADCASTSS 32(R8), Z0
	VMULPS       Z0, Z8, Z8
	VMULPS       Z0, Z9, Z9
	VBROADCASTSS 36(R8), Z0
	VMULPS       Z0, Z10, Z10
	VMULPS       Z0, Z11, Z11
	VBROADCASTSS 40(R8), Z0
	VMULPS       Z0, Z12, Z12
	VMULPS       Z0, Z13, Z13
	VBROADCASTSS 44(R8), Z0
	VMULPS       Z0, Z14, Z14
	VMULPS       Z0, Z15, Z15
	MOVQ         ldo+120(FP), DI
	SHLQ         $2, DI
	MOVQ         R14, SI
	IMULQ        DI, SI
	ADDQ         out+112(FP), SI
	ADDQ         AX, SI
	LEAQ         (DI)(DI*2), CX
	VMOVUPS      Z4, (SI)
	VMOVUPS      Z5, 64(SI)
	VMOVUPS      Z6, (SI)(DI*1)
	VMOVUPS      Z7, 64(SI)(DI*1)
	VMOVUPS      Z8, (SI)(DI*2)
	VMOVUPS      Z9, 64(SI)(DI*2)
	VMOVUPS      Z10, (SI)(CX*1)
	VMOVUPS      Z11, 64(SI)(CX*1)
	LEAQ         (SI)(DI*4), SI
	VMOVUPS      Z12, (SI)
	VMOVUPS      Z13, 64(SI)
	VMOVUPS      Z14, (SI)(DI*1)
	VMOVUPS      Z15, 64(SI)(DI*1)
	ADDQ         $128, AX
	JMP          zocols

zo6x8:
	LEAQ         (AX)(AX*2), DX
	LEAQ         (BX)(DX*2), DX  // block of 6 rows x 8 at o + 6*c0
	VBROADCASTSS (R8), Y0
	VMULPS       (DX), Y0, Y4
	VBROADCASTSS 4(R8), Y0
	VMULPS       32(DX), Y0, Y6
	VBROADCASTSS 8(R8), Y0
	VMULPS       64(DX), Y0, Y8
	VBROADCASTSS 12(R8), Y0
	VMULPS       96(DX), Y0, Y10
	VBROADCASTSS 16(R8), Y0
	VMULPS       128(DX), Y0, Y12
	VBROADCASTSS 20(R8), Y0
	VMULPS       160(DX), Y0, Y14
	MOVQ         s+96(FP), SI
	MOVQ         v+56(FP), DI
	ADDQ         AX, DI
	MOVQ         n+8(FP), CX

zol8:
	VMOVUPS      (DI), Y0
	VBROADCASTSS (SI), Y2
	VBROADCASTSS (SI)(R9*1), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y0, Y3, Y6
	VBROADCASTSS (SI)(R9*2), Y2
	VBROADCASTSS (SI)(R13*1), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y0, Y3, Y10
	VBROADCASTSS (SI)(R9*4), Y2
	VBROADCASTSS (SI)(R12*1), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y0, Y3, Y14
	ADDQ         $4, SI
	ADDQ         R10, DI
	DECQ         CX
	JNZ          zol8

	CMPB    last+128(FP), $0
	JNE     zout8
	VMOVUPS Y4, (DX)
	VMOVUPS Y6, 32(DX)
	VMOVUPS Y8, 64(DX)
	VMOVUPS Y10, 96(DX)
	VMOVUPS Y12, 128(DX)
	VMOVUPS Y14, 160(DX)
	ADDQ    $32, AX
	JMP     zocols

zout8:
	VBROADCASTSS 24(R8), Y0
	VMULPS       Y0, Y4, Y4
	VBROADCASTSS 28(R8), Y0
	VMULPS       Y0, Y6, Y6
	VBROADCASTSS 32(R8), Y0
	VMULPS       Y0, Y8, Y8
	VBROADCASTSS 36(R8), Y0
	VMULPS       Y0, Y10, Y10
	VBROADCASTSS 40(R8), Y0
	VMULPS       Y0, Y12, Y12
	VBROADCASTSS 44(R8), Y0
	VMULPS       Y0, Y14, Y14
	MOVQ         ldo+120(FP), DI
	SHLQ         $2, DI
	MOVQ         R14, SI
	IMULQ        DI, SI
	ADDQ         out+112(FP), SI
	ADDQ         AX, SI
	LEAQ         (DI)(DI*2), CX
	VMOVUPS      Y4, (SI)
	VMOVUPS      Y6, (SI)(DI*1)
	VMOVUPS      Y8, (SI)(DI*2)
	VMOVUPS      Y10, (SI)(CX*1)
	LEAQ         (SI)(DI*4), SI
	VMOVUPS      Y12, (SI)
	VMOVUPS      Y14, (SI)(DI*1)
	ADDQ         $32, AX
	JMP          zocols

znext:
	ADDQ $6, R14
	CMPQ R14, m+0(FP)
	JLT  zgroup
	VZEROUPPER
	RET
