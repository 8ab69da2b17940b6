// Package procstat reads this process's memory figures from
// /proc/self/status, for the speed table and the benchmarks that report
// resident memory.
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
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) == 0 {
			return 0
		}
		kb, _ := strconv.ParseFloat(fs[0], 64)
		return kb / 1024
	}
	return 0
}
