package procstat

import (
	"os"
	"strings"
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

// The model name is cpuinfo's, as grep reads it.
func TestCPUModel(t *testing.T) {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo on this system")
	}
	want := ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "model name") {
			want = strings.TrimSpace(line[strings.Index(line, ":")+1:])
			break
		}
	}
	if got := CPUModel(); got != want {
		t.Errorf("CPUModel() = %q, /proc/cpuinfo says %q", got, want)
	}
}
