// Package procstat reads figures of this process and machine from /proc:
// memory from /proc/self/status (the speed table, the benchmarks that report
// resident memory) and the CPU's model name from /proc/cpuinfo.
package procstat

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// MB reads a field of /proc/self/status given in kB ("VmHWM": the peak
// resident set, "VmRSS": the current one) in MB; 0 where /proc is not
// available or has no such field.
func MB(field string) float64 {
	v, _ := lookup("/proc/self/status", field)
	fs := strings.Fields(v)
	if len(fs) == 0 {
		return 0
	}
	kb, _ := strconv.ParseFloat(fs[0], 64)
	return kb / 1024
}

// CPUModel is the first processor's model name in /proc/cpuinfo, "" where
// there is none.
func CPUModel() string {
	v, _ := lookup("/proc/cpuinfo", "model name")
	return v
}

// lookup returns the value of the first "key: value" line of a /proc file
// whose key (spaces around it trimmed) is key.
func lookup(path, key string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
