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
	}
}

// UsingSIMD reports whether the assembly (AVX2+FMA) kernels are in use.
func UsingSIMD() bool { return useSIMD }

// Implementation names the kernel implementation in use: "avx2-fma" or "purego".
func Implementation() string { return activeGemm.name }
