package testenv

import (
	"errors"
	"testing"
)

// recorder is a testing.TB that records how a check ended instead of ending.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = true
	r.msg = args[0].(string)
}
func (r *recorder) Fatalf(format string, args ...any) { r.failed = true }

func TestNeedSkipsUnlessRequired(t *testing.T) {
	t.Setenv(RequireVariable, "")
	r := &recorder{TB: t}
	Need(r, Torch, errors.New("gone"))
	if !r.skipped || r.failed || r.msg != "needs Debian package python3-torch (apt-get install python3-torch): gone" {
		t.Errorf("skipped %v failed %v msg %q", r.skipped, r.failed, r.msg)
	}
	for _, req := range []string{"torch", "openblas, torch", "all"} {
		t.Setenv(RequireVariable, req)
		r = &recorder{TB: t}
		Need(r, Torch, errors.New("gone"))
		if r.skipped || !r.failed {
			t.Errorf("%s=%q: skipped %v failed %v", RequireVariable, req, r.skipped, r.failed)
		}
	}
	t.Setenv(RequireVariable, "chromium")
	r = &recorder{TB: t}
	Need(r, Torch, errors.New("gone"))
	if !r.skipped || r.failed {
		t.Errorf("torch not required: skipped %v failed %v", r.skipped, r.failed)
	}
	r = &recorder{TB: t}
	Need(r, Torch, nil)
	if r.skipped || r.failed {
		t.Error("a present feature skipped or failed")
	}
}
