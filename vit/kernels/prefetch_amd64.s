//go:build amd64 && !purego

#include "textflag.h"

// func prefetchRowsAsm(p *float32, stride, rows, width int)
// PREFETCHT0 of the first and the last float of rows rows of width floats,
// stride floats apart, starting at p (a row may straddle two cache lines).
TEXT ·prefetchRowsAsm(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ rows+16(FP), CX
	MOVQ width+24(FP), AX
	LEAQ -4(AX*4), AX
	TESTQ CX, CX
	JLE  done

loop:
	PREFETCHT0 (SI)
	PREFETCHT0 (SI)(AX*1)
	ADDQ DX, SI
	DECQ CX
	JNZ  loop

done:
	RET
