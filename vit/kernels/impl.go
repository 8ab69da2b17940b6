package kernels

import "os"

// activeGemm is the GEMM implementation chosen at start-up.
var activeGemm = genericGemm

// useSIMD reports whether the SIMD (assembly) kernels are active.
var useSIMD bool

func init() {
	if os.Getenv("FRANKENVIT_PUREGO") == "1" {
		return
	}
	if hasSIMD() {
		activeGemm = simdGemm
		useSIMD = true
		if hasAVX512() && avx512Gemm != nil && os.Getenv("FRANKENVIT_NOAVX512") != "1" {
			activeGemm = avx512Gemm
		}
	}
}

// UsingSIMD reports whether the assembly kernels (AVX2+FMA, and AVX-512
// for the GEMM where the CPU has it) are in use.
func UsingSIMD() bool { return useSIMD }

// Implementation names the GEMM implementation in use: "avx512-fma",
// "avx2-fma" or "purego".
func Implementation() string { return activeGemm.name }
