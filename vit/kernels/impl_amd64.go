//go:build amd64 && !purego

package kernels

var simdGemm = genericGemm

func hasSIMD() bool { return false }
