//go:build amd64 && !purego

#include "textflag.h"

// Exact GELU, 8 lanes at a time, in float32 with AVX2+FMA:
//   z = |x|/sqrt2, t = 1/(1+z/2),
//   erfc(z) = t*exp(-z*z + P(t))   (Numerical Recipes' erfcc, rel. err < 1.2e-7)
//   Phi(x) = x<0 ? erfc(z)/2 : 1 - erfc(z)/2,  gelu = x*Phi(x),
//   gelu'(x) = Phi(x) + x*exp(-z*z)/sqrt(2pi).
// z*z = x*x/2 is carried as zz+zlo (zlo from an FMA, straight from x), and the exponent's range
// reduction subtracts n*ln2 from zz exactly (Cody-Waite), so exp stays
// accurate to a few ulp even for large arguments. |x| >= 13 is handled by
// masks (gelu = 0 / x, gelu' = 0 / 1).

DATA ·geluC+0(SB)/4, $0x7fffffff
DATA ·geluC+4(SB)/4, $0x7fffffff
DATA ·geluC+8(SB)/4, $0x7fffffff
DATA ·geluC+12(SB)/4, $0x7fffffff
DATA ·geluC+16(SB)/4, $0x7fffffff
DATA ·geluC+20(SB)/4, $0x7fffffff
DATA ·geluC+24(SB)/4, $0x7fffffff
DATA ·geluC+28(SB)/4, $0x7fffffff
DATA ·geluC+32(SB)/4, $0x3f3504f3
DATA ·geluC+36(SB)/4, $0x3f3504f3
DATA ·geluC+40(SB)/4, $0x3f3504f3
DATA ·geluC+44(SB)/4, $0x3f3504f3
DATA ·geluC+48(SB)/4, $0x3f3504f3
DATA ·geluC+52(SB)/4, $0x3f3504f3
DATA ·geluC+56(SB)/4, $0x3f3504f3
DATA ·geluC+60(SB)/4, $0x3f3504f3
DATA ·geluC+64(SB)/4, $0x3f000000
DATA ·geluC+68(SB)/4, $0x3f000000
DATA ·geluC+72(SB)/4, $0x3f000000
DATA ·geluC+76(SB)/4, $0x3f000000
DATA ·geluC+80(SB)/4, $0x3f000000
DATA ·geluC+84(SB)/4, $0x3f000000
DATA ·geluC+88(SB)/4, $0x3f000000
DATA ·geluC+92(SB)/4, $0x3f000000
DATA ·geluC+96(SB)/4, $0x3f800000
DATA ·geluC+100(SB)/4, $0x3f800000
DATA ·geluC+104(SB)/4, $0x3f800000
DATA ·geluC+108(SB)/4, $0x3f800000
DATA ·geluC+112(SB)/4, $0x3f800000
DATA ·geluC+116(SB)/4, $0x3f800000
DATA ·geluC+120(SB)/4, $0x3f800000
DATA ·geluC+124(SB)/4, $0x3f800000
DATA ·geluC+128(SB)/4, $0x41133333
DATA ·geluC+132(SB)/4, $0x41133333
DATA ·geluC+136(SB)/4, $0x41133333
DATA ·geluC+140(SB)/4, $0x41133333
DATA ·geluC+144(SB)/4, $0x41133333
DATA ·geluC+148(SB)/4, $0x41133333
DATA ·geluC+152(SB)/4, $0x41133333
DATA ·geluC+156(SB)/4, $0x41133333
DATA ·geluC+160(SB)/4, $0x3fb8aa3b
DATA ·geluC+164(SB)/4, $0x3fb8aa3b
DATA ·geluC+168(SB)/4, $0x3fb8aa3b
DATA ·geluC+172(SB)/4, $0x3fb8aa3b
DATA ·geluC+176(SB)/4, $0x3fb8aa3b
DATA ·geluC+180(SB)/4, $0x3fb8aa3b
DATA ·geluC+184(SB)/4, $0x3fb8aa3b
DATA ·geluC+188(SB)/4, $0x3fb8aa3b
DATA ·geluC+192(SB)/4, $0xc2fc0000
DATA ·geluC+196(SB)/4, $0xc2fc0000
DATA ·geluC+200(SB)/4, $0xc2fc0000
DATA ·geluC+204(SB)/4, $0xc2fc0000
DATA ·geluC+208(SB)/4, $0xc2fc0000
DATA ·geluC+212(SB)/4, $0xc2fc0000
DATA ·geluC+216(SB)/4, $0xc2fc0000
DATA ·geluC+220(SB)/4, $0xc2fc0000
DATA ·geluC+224(SB)/4, $0x3f318000
DATA ·geluC+228(SB)/4, $0x3f318000
DATA ·geluC+232(SB)/4, $0x3f318000
DATA ·geluC+236(SB)/4, $0x3f318000
DATA ·geluC+240(SB)/4, $0x3f318000
DATA ·geluC+244(SB)/4, $0x3f318000
DATA ·geluC+248(SB)/4, $0x3f318000
DATA ·geluC+252(SB)/4, $0x3f318000
DATA ·geluC+256(SB)/4, $0xb95e8083
DATA ·geluC+260(SB)/4, $0xb95e8083
DATA ·geluC+264(SB)/4, $0xb95e8083
DATA ·geluC+268(SB)/4, $0xb95e8083
DATA ·geluC+272(SB)/4, $0xb95e8083
DATA ·geluC+276(SB)/4, $0xb95e8083
DATA ·geluC+280(SB)/4, $0xb95e8083
DATA ·geluC+284(SB)/4, $0xb95e8083
DATA ·geluC+288(SB)/4, $0x39506967
DATA ·geluC+292(SB)/4, $0x39506967
DATA ·geluC+296(SB)/4, $0x39506967
DATA ·geluC+300(SB)/4, $0x39506967
DATA ·geluC+304(SB)/4, $0x39506967
DATA ·geluC+308(SB)/4, $0x39506967
DATA ·geluC+312(SB)/4, $0x39506967
DATA ·geluC+316(SB)/4, $0x39506967
DATA ·geluC+320(SB)/4, $0x3ab743ce
DATA ·geluC+324(SB)/4, $0x3ab743ce
DATA ·geluC+328(SB)/4, $0x3ab743ce
DATA ·geluC+332(SB)/4, $0x3ab743ce
DATA ·geluC+336(SB)/4, $0x3ab743ce
DATA ·geluC+340(SB)/4, $0x3ab743ce
DATA ·geluC+344(SB)/4, $0x3ab743ce
DATA ·geluC+348(SB)/4, $0x3ab743ce
DATA ·geluC+352(SB)/4, $0x3c088908
DATA ·geluC+356(SB)/4, $0x3c088908
DATA ·geluC+360(SB)/4, $0x3c088908
DATA ·geluC+364(SB)/4, $0x3c088908
DATA ·geluC+368(SB)/4, $0x3c088908
DATA ·geluC+372(SB)/4, $0x3c088908
DATA ·geluC+376(SB)/4, $0x3c088908
DATA ·geluC+380(SB)/4, $0x3c088908
DATA ·geluC+384(SB)/4, $0x3d2aa9c1
DATA ·geluC+388(SB)/4, $0x3d2aa9c1
DATA ·geluC+392(SB)/4, $0x3d2aa9c1
DATA ·geluC+396(SB)/4, $0x3d2aa9c1
DATA ·geluC+400(SB)/4, $0x3d2aa9c1
DATA ·geluC+404(SB)/4, $0x3d2aa9c1
DATA ·geluC+408(SB)/4, $0x3d2aa9c1
DATA ·geluC+412(SB)/4, $0x3d2aa9c1
DATA ·geluC+416(SB)/4, $0x3e2aaaaa
DATA ·geluC+420(SB)/4, $0x3e2aaaaa
DATA ·geluC+424(SB)/4, $0x3e2aaaaa
DATA ·geluC+428(SB)/4, $0x3e2aaaaa
DATA ·geluC+432(SB)/4, $0x3e2aaaaa
DATA ·geluC+436(SB)/4, $0x3e2aaaaa
DATA ·geluC+440(SB)/4, $0x3e2aaaaa
DATA ·geluC+444(SB)/4, $0x3e2aaaaa
DATA ·geluC+448(SB)/4, $0x3f000000
DATA ·geluC+452(SB)/4, $0x3f000000
DATA ·geluC+456(SB)/4, $0x3f000000
DATA ·geluC+460(SB)/4, $0x3f000000
DATA ·geluC+464(SB)/4, $0x3f000000
DATA ·geluC+468(SB)/4, $0x3f000000
DATA ·geluC+472(SB)/4, $0x3f000000
DATA ·geluC+476(SB)/4, $0x3f000000
DATA ·geluC+480(SB)/4, $0x0000007f
DATA ·geluC+484(SB)/4, $0x0000007f
DATA ·geluC+488(SB)/4, $0x0000007f
DATA ·geluC+492(SB)/4, $0x0000007f
DATA ·geluC+496(SB)/4, $0x0000007f
DATA ·geluC+500(SB)/4, $0x0000007f
DATA ·geluC+504(SB)/4, $0x0000007f
DATA ·geluC+508(SB)/4, $0x0000007f
DATA ·geluC+512(SB)/4, $0xc1500000
DATA ·geluC+516(SB)/4, $0xc1500000
DATA ·geluC+520(SB)/4, $0xc1500000
DATA ·geluC+524(SB)/4, $0xc1500000
DATA ·geluC+528(SB)/4, $0xc1500000
DATA ·geluC+532(SB)/4, $0xc1500000
DATA ·geluC+536(SB)/4, $0xc1500000
DATA ·geluC+540(SB)/4, $0xc1500000
DATA ·geluC+544(SB)/4, $0x41500000
DATA ·geluC+548(SB)/4, $0x41500000
DATA ·geluC+552(SB)/4, $0x41500000
DATA ·geluC+556(SB)/4, $0x41500000
DATA ·geluC+560(SB)/4, $0x41500000
DATA ·geluC+564(SB)/4, $0x41500000
DATA ·geluC+568(SB)/4, $0x41500000
DATA ·geluC+572(SB)/4, $0x41500000
DATA ·geluC+576(SB)/4, $0x3ecc422a
DATA ·geluC+580(SB)/4, $0x3ecc422a
DATA ·geluC+584(SB)/4, $0x3ecc422a
DATA ·geluC+588(SB)/4, $0x3ecc422a
DATA ·geluC+592(SB)/4, $0x3ecc422a
DATA ·geluC+596(SB)/4, $0x3ecc422a
DATA ·geluC+600(SB)/4, $0x3ecc422a
DATA ·geluC+604(SB)/4, $0x3ecc422a
DATA ·geluC+608(SB)/4, $0x3e2ef945
DATA ·geluC+612(SB)/4, $0x3e2ef945
DATA ·geluC+616(SB)/4, $0x3e2ef945
DATA ·geluC+620(SB)/4, $0x3e2ef945
DATA ·geluC+624(SB)/4, $0x3e2ef945
DATA ·geluC+628(SB)/4, $0x3e2ef945
DATA ·geluC+632(SB)/4, $0x3e2ef945
DATA ·geluC+636(SB)/4, $0x3e2ef945
DATA ·geluC+640(SB)/4, $0xbf527892
DATA ·geluC+644(SB)/4, $0xbf527892
DATA ·geluC+648(SB)/4, $0xbf527892
DATA ·geluC+652(SB)/4, $0xbf527892
DATA ·geluC+656(SB)/4, $0xbf527892
DATA ·geluC+660(SB)/4, $0xbf527892
DATA ·geluC+664(SB)/4, $0xbf527892
DATA ·geluC+668(SB)/4, $0xbf527892
DATA ·geluC+672(SB)/4, $0x3fbe87b0
DATA ·geluC+676(SB)/4, $0x3fbe87b0
DATA ·geluC+680(SB)/4, $0x3fbe87b0
DATA ·geluC+684(SB)/4, $0x3fbe87b0
DATA ·geluC+688(SB)/4, $0x3fbe87b0
DATA ·geluC+692(SB)/4, $0x3fbe87b0
DATA ·geluC+696(SB)/4, $0x3fbe87b0
DATA ·geluC+700(SB)/4, $0x3fbe87b0
DATA ·geluC+704(SB)/4, $0xbf914e5d
DATA ·geluC+708(SB)/4, $0xbf914e5d
DATA ·geluC+712(SB)/4, $0xbf914e5d
DATA ·geluC+716(SB)/4, $0xbf914e5d
DATA ·geluC+720(SB)/4, $0xbf914e5d
DATA ·geluC+724(SB)/4, $0xbf914e5d
DATA ·geluC+728(SB)/4, $0xbf914e5d
DATA ·geluC+732(SB)/4, $0xbf914e5d
DATA ·geluC+736(SB)/4, $0x3e8ec7cc
DATA ·geluC+740(SB)/4, $0x3e8ec7cc
DATA ·geluC+744(SB)/4, $0x3e8ec7cc
DATA ·geluC+748(SB)/4, $0x3e8ec7cc
DATA ·geluC+752(SB)/4, $0x3e8ec7cc
DATA ·geluC+756(SB)/4, $0x3e8ec7cc
DATA ·geluC+760(SB)/4, $0x3e8ec7cc
DATA ·geluC+764(SB)/4, $0x3e8ec7cc
DATA ·geluC+768(SB)/4, $0xbe3ec24c
DATA ·geluC+772(SB)/4, $0xbe3ec24c
DATA ·geluC+776(SB)/4, $0xbe3ec24c
DATA ·geluC+780(SB)/4, $0xbe3ec24c
DATA ·geluC+784(SB)/4, $0xbe3ec24c
DATA ·geluC+788(SB)/4, $0xbe3ec24c
DATA ·geluC+792(SB)/4, $0xbe3ec24c
DATA ·geluC+796(SB)/4, $0xbe3ec24c
DATA ·geluC+800(SB)/4, $0x3dc636c9
DATA ·geluC+804(SB)/4, $0x3dc636c9
DATA ·geluC+808(SB)/4, $0x3dc636c9
DATA ·geluC+812(SB)/4, $0x3dc636c9
DATA ·geluC+816(SB)/4, $0x3dc636c9
DATA ·geluC+820(SB)/4, $0x3dc636c9
DATA ·geluC+824(SB)/4, $0x3dc636c9
DATA ·geluC+828(SB)/4, $0x3dc636c9
DATA ·geluC+832(SB)/4, $0x3ebf88fb
DATA ·geluC+836(SB)/4, $0x3ebf88fb
DATA ·geluC+840(SB)/4, $0x3ebf88fb
DATA ·geluC+844(SB)/4, $0x3ebf88fb
DATA ·geluC+848(SB)/4, $0x3ebf88fb
DATA ·geluC+852(SB)/4, $0x3ebf88fb
DATA ·geluC+856(SB)/4, $0x3ebf88fb
DATA ·geluC+860(SB)/4, $0x3ebf88fb
DATA ·geluC+864(SB)/4, $0x3f8000c7
DATA ·geluC+868(SB)/4, $0x3f8000c7
DATA ·geluC+872(SB)/4, $0x3f8000c7
DATA ·geluC+876(SB)/4, $0x3f8000c7
DATA ·geluC+880(SB)/4, $0x3f8000c7
DATA ·geluC+884(SB)/4, $0x3f8000c7
DATA ·geluC+888(SB)/4, $0x3f8000c7
DATA ·geluC+892(SB)/4, $0x3f8000c7
DATA ·geluC+896(SB)/4, $0xbfa1fc4e
DATA ·geluC+900(SB)/4, $0xbfa1fc4e
DATA ·geluC+904(SB)/4, $0xbfa1fc4e
DATA ·geluC+908(SB)/4, $0xbfa1fc4e
DATA ·geluC+912(SB)/4, $0xbfa1fc4e
DATA ·geluC+916(SB)/4, $0xbfa1fc4e
DATA ·geluC+920(SB)/4, $0xbfa1fc4e
DATA ·geluC+924(SB)/4, $0xbfa1fc4e
DATA ·geluC+928(SB)/4, $0xc2ae999a
DATA ·geluC+932(SB)/4, $0xc2ae999a
DATA ·geluC+936(SB)/4, $0xc2ae999a
DATA ·geluC+940(SB)/4, $0xc2ae999a
DATA ·geluC+944(SB)/4, $0xc2ae999a
DATA ·geluC+948(SB)/4, $0xc2ae999a
DATA ·geluC+952(SB)/4, $0xc2ae999a
DATA ·geluC+956(SB)/4, $0xc2ae999a
DATA ·geluC+960(SB)/4, $0x42b0999a
DATA ·geluC+964(SB)/4, $0x42b0999a
DATA ·geluC+968(SB)/4, $0x42b0999a
DATA ·geluC+972(SB)/4, $0x42b0999a
DATA ·geluC+976(SB)/4, $0x42b0999a
DATA ·geluC+980(SB)/4, $0x42b0999a
DATA ·geluC+984(SB)/4, $0x42b0999a
DATA ·geluC+988(SB)/4, $0x42b0999a
GLOBL ·geluC(SB), RODATA|NOPTR, $992

#include "exp_amd64.h"

// Constants of the rational erf of the forward GELU (see geluForwardAVX2), 8 lanes each.
DATA ·erfC+0(SB)/4, $0xaf95df0b
DATA ·erfC+4(SB)/4, $0xaf95df0b
DATA ·erfC+8(SB)/4, $0xaf95df0b
DATA ·erfC+12(SB)/4, $0xaf95df0b
DATA ·erfC+16(SB)/4, $0xaf95df0b
DATA ·erfC+20(SB)/4, $0xaf95df0b
DATA ·erfC+24(SB)/4, $0xaf95df0b
DATA ·erfC+28(SB)/4, $0xaf95df0b
DATA ·erfC+32(SB)/4, $0x32edffee
DATA ·erfC+36(SB)/4, $0x32edffee
DATA ·erfC+40(SB)/4, $0x32edffee
DATA ·erfC+44(SB)/4, $0x32edffee
DATA ·erfC+48(SB)/4, $0x32edffee
DATA ·erfC+52(SB)/4, $0x32edffee
DATA ·erfC+56(SB)/4, $0x32edffee
DATA ·erfC+60(SB)/4, $0x32edffee
DATA ·erfC+64(SB)/4, $0xb60cff51
DATA ·erfC+68(SB)/4, $0xb60cff51
DATA ·erfC+72(SB)/4, $0xb60cff51
DATA ·erfC+76(SB)/4, $0xb60cff51
DATA ·erfC+80(SB)/4, $0xb60cff51
DATA ·erfC+84(SB)/4, $0xb60cff51
DATA ·erfC+88(SB)/4, $0xb60cff51
DATA ·erfC+92(SB)/4, $0xb60cff51
DATA ·erfC+96(SB)/4, $0xb86ec2d2
DATA ·erfC+100(SB)/4, $0xb86ec2d2
DATA ·erfC+104(SB)/4, $0xb86ec2d2
DATA ·erfC+108(SB)/4, $0xb86ec2d2
DATA ·erfC+112(SB)/4, $0xb86ec2d2
DATA ·erfC+116(SB)/4, $0xb86ec2d2
DATA ·erfC+120(SB)/4, $0xb86ec2d2
DATA ·erfC+124(SB)/4, $0xb86ec2d2
DATA ·erfC+128(SB)/4, $0xba40ac63
DATA ·erfC+132(SB)/4, $0xba40ac63
DATA ·erfC+136(SB)/4, $0xba40ac63
DATA ·erfC+140(SB)/4, $0xba40ac63
DATA ·erfC+144(SB)/4, $0xba40ac63
DATA ·erfC+148(SB)/4, $0xba40ac63
DATA ·erfC+152(SB)/4, $0xba40ac63
DATA ·erfC+156(SB)/4, $0xba40ac63
DATA ·erfC+160(SB)/4, $0xbb41a1f6
DATA ·erfC+164(SB)/4, $0xbb41a1f6
DATA ·erfC+168(SB)/4, $0xbb41a1f6
DATA ·erfC+172(SB)/4, $0xbb41a1f6
DATA ·erfC+176(SB)/4, $0xbb41a1f6
DATA ·erfC+180(SB)/4, $0xbb41a1f6
DATA ·erfC+184(SB)/4, $0xbb41a1f6
DATA ·erfC+188(SB)/4, $0xbb41a1f6
DATA ·erfC+192(SB)/4, $0xbc83dbd4
DATA ·erfC+196(SB)/4, $0xbc83dbd4
DATA ·erfC+200(SB)/4, $0xbc83dbd4
DATA ·erfC+204(SB)/4, $0xbc83dbd4
DATA ·erfC+208(SB)/4, $0xbc83dbd4
DATA ·erfC+212(SB)/4, $0xbc83dbd4
DATA ·erfC+216(SB)/4, $0xbc83dbd4
DATA ·erfC+220(SB)/4, $0xbc83dbd4
DATA ·erfC+224(SB)/4, $0xb77460cd
DATA ·erfC+228(SB)/4, $0xb77460cd
DATA ·erfC+232(SB)/4, $0xb77460cd
DATA ·erfC+236(SB)/4, $0xb77460cd
DATA ·erfC+240(SB)/4, $0xb77460cd
DATA ·erfC+244(SB)/4, $0xb77460cd
DATA ·erfC+248(SB)/4, $0xb77460cd
DATA ·erfC+252(SB)/4, $0xb77460cd
DATA ·erfC+256(SB)/4, $0xb95fbd29
DATA ·erfC+260(SB)/4, $0xb95fbd29
DATA ·erfC+264(SB)/4, $0xb95fbd29
DATA ·erfC+268(SB)/4, $0xb95fbd29
DATA ·erfC+272(SB)/4, $0xb95fbd29
DATA ·erfC+276(SB)/4, $0xb95fbd29
DATA ·erfC+280(SB)/4, $0xb95fbd29
DATA ·erfC+284(SB)/4, $0xb95fbd29
DATA ·erfC+288(SB)/4, $0xbadc924e
DATA ·erfC+292(SB)/4, $0xbadc924e
DATA ·erfC+296(SB)/4, $0xbadc924e
DATA ·erfC+300(SB)/4, $0xbadc924e
DATA ·erfC+304(SB)/4, $0xbadc924e
DATA ·erfC+308(SB)/4, $0xbadc924e
DATA ·erfC+312(SB)/4, $0xbadc924e
DATA ·erfC+316(SB)/4, $0xbadc924e
DATA ·erfC+320(SB)/4, $0xbbf19bf8
DATA ·erfC+324(SB)/4, $0xbbf19bf8
DATA ·erfC+328(SB)/4, $0xbbf19bf8
DATA ·erfC+332(SB)/4, $0xbbf19bf8
DATA ·erfC+336(SB)/4, $0xbbf19bf8
DATA ·erfC+340(SB)/4, $0xbbf19bf8
DATA ·erfC+344(SB)/4, $0xbbf19bf8
DATA ·erfC+348(SB)/4, $0xbbf19bf8
DATA ·erfC+352(SB)/4, $0xbc69b6a7
DATA ·erfC+356(SB)/4, $0xbc69b6a7
DATA ·erfC+360(SB)/4, $0xbc69b6a7
DATA ·erfC+364(SB)/4, $0xbc69b6a7
DATA ·erfC+368(SB)/4, $0xbc69b6a7
DATA ·erfC+372(SB)/4, $0xbc69b6a7
DATA ·erfC+376(SB)/4, $0xbc69b6a7
DATA ·erfC+380(SB)/4, $0xbc69b6a7
DATA ·erfC+384(SB)/4, $0x40800000
DATA ·erfC+388(SB)/4, $0x40800000
DATA ·erfC+392(SB)/4, $0x40800000
DATA ·erfC+396(SB)/4, $0x40800000
DATA ·erfC+400(SB)/4, $0x40800000
DATA ·erfC+404(SB)/4, $0x40800000
DATA ·erfC+408(SB)/4, $0x40800000
DATA ·erfC+412(SB)/4, $0x40800000
DATA ·erfC+416(SB)/4, $0xc0800000
DATA ·erfC+420(SB)/4, $0xc0800000
DATA ·erfC+424(SB)/4, $0xc0800000
DATA ·erfC+428(SB)/4, $0xc0800000
DATA ·erfC+432(SB)/4, $0xc0800000
DATA ·erfC+436(SB)/4, $0xc0800000
DATA ·erfC+440(SB)/4, $0xc0800000
DATA ·erfC+444(SB)/4, $0xc0800000
DATA ·erfC+448(SB)/4, $0xbf800000
DATA ·erfC+452(SB)/4, $0xbf800000
DATA ·erfC+456(SB)/4, $0xbf800000
DATA ·erfC+460(SB)/4, $0xbf800000
DATA ·erfC+464(SB)/4, $0xbf800000
DATA ·erfC+468(SB)/4, $0xbf800000
DATA ·erfC+472(SB)/4, $0xbf800000
DATA ·erfC+476(SB)/4, $0xbf800000
GLOBL ·erfC(SB), RODATA|NOPTR, $480

// PHI: from x in Y0 computes a = min(|x|,13), zz+zlo = a*a/2 exactly
// (Y4, Y5), z = a/sqrt2 (Y1), t (Y2) and Phi(x) in Y12. Clobbers Y3,
// Y6-Y11, Y13, Y14. P(t) is evaluated by Estrin's scheme.
#define PHI \
	VANDPS       K_absmask, Y0, Y1; \
	VMINPS       K_xhi, Y1, Y1; \
	VMULPS       Y1, Y1, Y4; \
	VMOVAPS      Y1, Y5; \
	VFMSUB213PS  Y4, Y1, Y5; \
	VMULPS       K_half, Y4, Y4; \
	VMULPS       K_half, Y5, Y5; \
	VMULPS       K_invsqrt2, Y1, Y1; \
	VMOVUPS      K_half, Y2; \
	VFMADD213PS  K_one, Y1, Y2; \
	VMOVUPS      K_one, Y3; \
	VDIVPS       Y2, Y3, Y2; \
	VMULPS       Y2, Y2, Y3; \
	VMOVUPS      K_p9, Y8; \
	VFMADD213PS  K_p8, Y2, Y8; \
	VMOVUPS      K_p7, Y9; \
	VFMADD213PS  K_p6, Y2, Y9; \
	VMOVUPS      K_p5, Y10; \
	VFMADD213PS  K_p4, Y2, Y10; \
	VMOVUPS      K_p3, Y11; \
	VFMADD213PS  K_p2, Y2, Y11; \
	VMOVUPS      K_p1, Y12; \
	VFMADD213PS  K_p0, Y2, Y12; \
	VFMADD231PS  Y9, Y3, Y10; \
	VFMADD231PS  Y11, Y3, Y12; \
	VMULPS       Y3, Y3, Y13; \
	VFMADD231PS  Y10, Y13, Y12; \
	VMULPS       Y13, Y13, Y13; \
	VFMADD231PS  Y8, Y13, Y12; \
	VSUBPS       Y5, Y12, Y3; \
	VSUBPS       Y4, Y3, Y6; \
	VMULPS       K_log2e, Y6, Y6; \
	VROUNDPS     $0, Y6, Y6; \
	VMAXPS       K_nmin, Y6, Y6; \
	VMOVAPS      Y4, Y7; \
	VFNMSUB231PS K_c1, Y6, Y7; \
	VADDPS       Y3, Y7, Y7; \
	VFNMADD231PS K_c2, Y6, Y7; \
	EXPPOLY(Y7, Y8, Y9, Y13, Y14); \
	VCVTPS2DQ    Y6, Y10; \
	VPADDD       K_bias127, Y10, Y10; \
	VPSLLD       $23, Y10, Y10; \
	VMULPS       Y10, Y8, Y8; \
	VMULPS       Y2, Y8, Y8; \
	VMULPS       K_half, Y8, Y8; \
	VMOVUPS      K_one, Y11; \
	VSUBPS       Y8, Y11, Y11; \
	VBLENDVPS    Y0, Y8, Y11, Y12

// func geluForwardAVX2(out *float32, inp *float32, n int)
// n must be a positive multiple of 8.
//
// The forward pass does not need Phi's tail accuracy (the backward pass keeps
// the erfc form above): gelu = x/2*(1+erf(x/sqrt2)) with Eigen's (and XLA's)
// rational erf, z clamped to [-4, 4], erf = z*A(z*z)/B(z*z) clamped to
// [-1, 1]; absolute error of gelu below 1e-7*|x|. Two short independent
// polynomial chains and one division instead of a division, a degree-9
// polynomial and an exponential in series: about 3x the throughput.
TEXT ·geluForwardAVX2(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ inp+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   fdone

floop:
	VMOVUPS     (SI), Y0
	VMULPS      K_invsqrt2, Y0, Y1
	VMAXPS      K_mfour, Y1, Y1
	VMINPS      K_four, Y1, Y1
	VMULPS      Y1, Y1, Y2
	VMOVUPS     K_erfa13, Y3
	VMOVUPS     K_erfb8, Y4
	VFMADD213PS K_erfa11, Y2, Y3
	VFMADD213PS K_erfb6, Y2, Y4
	VFMADD213PS K_erfa9, Y2, Y3
	VFMADD213PS K_erfb4, Y2, Y4
	VFMADD213PS K_erfa7, Y2, Y3
	VFMADD213PS K_erfb2, Y2, Y4
	VFMADD213PS K_erfa5, Y2, Y3
	VFMADD213PS K_erfb0, Y2, Y4
	VFMADD213PS K_erfa3, Y2, Y3
	VFMADD213PS K_erfa1, Y2, Y3
	VMULPS      Y1, Y3, Y3
	VDIVPS      Y4, Y3, Y3
	VMINPS      K_one, Y3, Y3
	VMAXPS      K_mone, Y3, Y3
	VMULPS      K_half, Y0, Y5
	VFMADD231PS Y3, Y5, Y5
	VCMPPS      $1, K_xlo, Y0, Y14
	VANDNPS     Y5, Y14, Y5
	VMOVUPS     Y5, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JNZ         floop

fdone:
	VZEROUPPER
	RET

// func geluBackwardAVX2(dinp *float32, inp *float32, dout *float32, n int)
// dinp += dout * gelu'(inp); n must be a positive multiple of 8.
TEXT ·geluBackwardAVX2(SB), NOSPLIT, $0-32
	MOVQ dinp+0(FP), DI
	MOVQ inp+8(FP), SI
	MOVQ dout+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   bdone

bloop:
	VMOVUPS (SI), Y0
	PHI

	// E1 = exp(-(zz+zlo)): m = round(zz*log2e), r = (m*c1 - zz) - zlo + m*c2
	VMULPS      K_log2e, Y4, Y6
	VROUNDPS    $0, Y6, Y6
	VMOVAPS     Y4, Y7
	VFMSUB231PS K_c1, Y6, Y7
	VSUBPS      Y5, Y7, Y7
	VFMADD231PS K_c2, Y6, Y7
	EXPPOLY(Y7, Y8, Y9, Y13, Y14)
	VCVTPS2DQ   Y6, Y9
	VMOVDQU     K_bias127, Y10
	VPSUBD      Y9, Y10, Y10
	VPSLLD      $23, Y10, Y10
	VMULPS      Y10, Y8, Y8

	// gelu' = Phi + x*E1/sqrt(2pi), then the |x| >= 13 masks.
	VMULPS      K_invsqrt2pi, Y8, Y8
	VFMADD231PS Y8, Y0, Y12
	VMOVUPS     K_xhi, Y15
	VCMPPS      $1, Y0, Y15, Y15
	VBLENDVPS   Y15, K_one, Y12, Y12
	VCMPPS      $1, K_xlo, Y0, Y14
	VANDNPS     Y12, Y14, Y12

	VMOVUPS     (DX), Y9
	VMOVUPS     (DI), Y10
	VFMADD231PS Y12, Y9, Y10
	VMOVUPS     Y10, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         bloop

bdone:
	VZEROUPPER
	RET

// func expShiftAVX2(x *float32, n int, shift float32)
// x[i] = exp(x[i] - shift) for a positive multiple of 8 elements; the
// argument is clamped to at most 88.3, and below -87.3 the result is 0.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	SHRQ         $3, CX
	JZ           edone
	VBROADCASTSS shift+16(FP), Y15

eloop:
	VMOVUPS   (DI), Y0
	VSUBPS    Y15, Y0, Y0
	VCMPPS    $1, K_expmin, Y0, Y14
	VMAXPS    K_expmin, Y0, Y0
	VMINPS    K_expmax, Y0, Y0
	VMULPS    K_log2e, Y0, Y6
	VROUNDPS  $0, Y6, Y6
	VFNMADD231PS K_c1, Y6, Y0
	VFNMADD231PS K_c2, Y6, Y0
	EXPPOLY(Y0, Y8, Y9, Y11, Y12)
	VCVTPS2DQ Y6, Y10
	VPADDD    K_bias127, Y10, Y10
	VPSLLD    $23, Y10, Y10
	VMULPS    Y10, Y8, Y8
	VANDNPS   Y8, Y14, Y8
	VMOVUPS   Y8, (DI)
	ADDQ      $32, DI
	DECQ      CX
	JNZ       eloop

edone:
	VZEROUPPER
	RET

// func softmaxRowsAVX2(s *float32, tp int, rows int)
// In place, for each of rows rows of tp floats (tp % 8 == 0, tp > 0):
// s = exp(s - max(s)) / sum(exp(s - max(s))). Padding lanes set to -Inf come
// out as exactly 0. Max and sum are reduced in a fixed order.
TEXT ·softmaxRowsAVX2(SB), NOSPLIT, $0-24
	MOVQ  s+0(FP), DI
	MOVQ  tp+8(FP), R11
	SHRQ  $3, R11
	MOVQ  rows+16(FP), BX
	TESTQ BX, BX
	JZ    sdone

srow:
#include "softmax_row_amd64.h"

	MOVQ AX, DI
	DECQ BX
	JNZ  srow

sdone:
	VZEROUPPER
	RET

// func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, rb, cb int)
// dst[c*ldd + r] = src[r*lds + c] for r < 8*rb, c < 8*cb, by 8×8 blocks.
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-48
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10       // 3*lds
	LEAQ (R8)(R8*2), R11       // 3*ldd
	MOVQ rb+32(FP), BX
	MOVQ src+16(FP), SI        // start of the current 8-row band of src
	MOVQ dst+0(FP), DI         // matching 8-column band of dst
	TESTQ BX, BX
	JZ   tdone

tband:
	MOVQ cb+40(FP), CX
	MOVQ SI, AX                // src block (row band, column block)
	MOVQ DI, DX                // dst block
	TESTQ CX, CX
	JZ   tnext

tblock:
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R9*1), Y1
	VMOVUPS (AX)(R9*2), Y2
	VMOVUPS (AX)(R10*1), Y3
	LEAQ    (AX)(R9*4), R12
	VMOVUPS (R12), Y4
	VMOVUPS (R12)(R9*1), Y5
	VMOVUPS (R12)(R9*2), Y6
	VMOVUPS (R12)(R10*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (DX)
	VMOVUPS Y9, (DX)(R8*1)
	VMOVUPS Y10, (DX)(R8*2)
	VMOVUPS Y11, (DX)(R11*1)
	LEAQ    (DX)(R8*4), R12
	VMOVUPS Y12, (R12)
	VMOVUPS Y13, (R12)(R8*1)
	VMOVUPS Y14, (R12)(R8*2)
	VMOVUPS Y15, (R12)(R11*1)

	ADDQ $32, AX               // next 8 columns of src
	LEAQ (DX)(R8*8), DX        // next 8 rows of dst
	DECQ CX
	JNZ  tblock

tnext:
	LEAQ (SI)(R9*8), SI        // next 8 rows of src
	ADDQ $32, DI               // next 8 columns of dst
	DECQ BX
	JNZ  tband

tdone:
	VZEROUPPER
	RET
