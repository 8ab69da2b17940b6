//go:build !amd64 || purego

package kernels

func adamWStepSIMD(w, g, m, v []float32, p *adamWParams) { adamWStepGo(w, g, m, v, p) }
