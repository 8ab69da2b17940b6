package kernels

import (
	"os"
	"os/exec"
	"testing"
)

// The committed AVX-512 GEMM is what its generator writes today: an edit
// of one without the other fails here.
func TestAVX512GemmIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs ./_asmgen (-short)")
	}
	out, err := exec.Command("go", "run", "./_asmgen").Output()
	if err != nil {
		t.Fatalf("go run ./_asmgen: %v", err)
	}
	committed, err := os.ReadFile("gemm_avx512_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(committed) {
		t.Error("gemm_avx512_amd64.s differs from the output of go run ./_asmgen: regenerate it (go run ./_asmgen > gemm_avx512_amd64.s) or mend the generator")
	}
}
