package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"
)

// TestCPUProfileFlag: --cpuprofile leaves a profile go tool pprof reads when
// the command ends, also when the command fails; a bad folder is one error line.
func TestCPUProfileFlag(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"store", "ls"}, 0},
		{[]string{"store", "show", "missing"}, 1},
	} {
		out := filepath.Join(dir, "cpu.pprof")
		os.Remove(out)
		r := cli(t, nil, append([]string{"--store", store, "--cpuprofile", out}, tc.args...)...)
		if r.code != tc.code {
			t.Fatalf("%v: exit %d, stderr %s", tc.args, r.code, r.stderr)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		p, err := profile.Parse(f)
		f.Close()
		if err != nil || len(p.SampleType) == 0 {
			t.Errorf("%v: not a CPU profile: %v", tc.args, err)
		}
	}
	failsCleanly(t, cli(t, nil, "--store", store, "--cpuprofile", filepath.Join(dir, "no", "cpu.pprof"), "store", "ls"), "does not exist")
	// A folder no file can be created in (not even by root): the command
	// runs, then fails naming the flag, without hanging.
	if st, err := os.Stat("/proc/self"); err == nil && st.IsDir() {
		failsCleanly(t, cli(t, nil, "--store", store, "--cpuprofile", "/proc/cpu.pprof", "store", "ls"), "--cpuprofile")
	}
}
