package kernels

import "golang.org/x/sys/cpu"

// CPUFlags names the SIMD extensions of this CPU that matter to the kernels
// (as the CPU and the OS report them, whether or not a kernel uses them).
func CPUFlags() []string {
	var out []string
	for _, f := range []struct {
		name string
		has  bool
	}{
		{"sse4.2", cpu.X86.HasSSE42}, {"avx", cpu.X86.HasAVX}, {"avx2", cpu.X86.HasAVX2}, {"fma", cpu.X86.HasFMA},
		{"avx512f", cpu.X86.HasAVX512F}, {"avx512bw", cpu.X86.HasAVX512BW}, {"avx512dq", cpu.X86.HasAVX512DQ},
		{"avx512vl", cpu.X86.HasAVX512VL}, {"avx512vnni", cpu.X86.HasAVX512VNNI}, {"avx512bf16", cpu.X86.HasAVX512BF16},
		{"neon", cpu.ARM64.HasASIMD},
	} {
		if f.has {
			out = append(out, f.name)
		}
	}
	return out
}
