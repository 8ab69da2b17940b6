package cpuprofile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"
)

func TestStartStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	p := Start(path)
	x := 0.0
	for i := range 20_000_000 {
		x += float64(i)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if prof, err := profile.Parse(f); err != nil || len(prof.SampleType) == 0 {
		t.Errorf("not a CPU profile: %v (%v)", err, x)
	}
	// A second profile while none runs works; one in a folder that does not
	// exist fails at Stop without hanging.
	if err := Start(filepath.Join(t.TempDir(), "none", "cpu.pprof")).Stop(); err == nil {
		t.Error("a profile in a missing folder reported no error")
	}
	if err := Start(path).Stop(); err != nil {
		t.Errorf("a second profile: %v", err)
	}
}

// Two profiles at once: the second fails (the runtime has one profiler)
// and the first is unharmed.
func TestOneAtATime(t *testing.T) {
	dir := t.TempDir()
	a := Start(filepath.Join(dir, "a"))
	if err := Start(filepath.Join(dir, "b")).Stop(); err == nil {
		t.Error("a second concurrent profile reported no error")
	}
	if err := a.Stop(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); err == nil {
		t.Error("the failed profile left a file")
	}
}
