package procstat

import (
	"os"
	"testing"
)

// The peak resident set is at least the current one, and both are
// positive on Linux; an unknown field is 0.
func TestMB(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	rss := MB("VmRSS") // first: the peak read after it is at least this
	hwm := MB("VmHWM")
	if rss <= 0 || hwm < rss {
		t.Errorf("VmHWM %v MB, VmRSS %v MB", hwm, rss)
	}
	if MB("NoSuchField") != 0 {
		t.Error("an unknown field is not 0")
	}
}
