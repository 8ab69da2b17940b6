package speed

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/frankenvit/frankenvit/internal/cpuprofile"
	"github.com/google/pprof/profile"
)

// ProfileEntry is one function of a CPU profile's flat list: the share of
// the profile's CPU time spent in the function itself (inlined callees
// count as their own functions, as `go tool pprof -top` counts them).
type ProfileEntry struct {
	Function string  `json:"function"`
	Flat     float64 `json:"flat_fraction"`
}

// TopFunctions is the number of functions a measurement keeps per profile.
const TopFunctions = 10

// profiled runs fn under the CPU profiler, writing the profile to path
// (atomically) and returning its top functions; with path "" it only runs fn.
func profiled(path string, fn func() error) ([]ProfileEntry, error) {
	if path == "" {
		return nil, fn()
	}
	p := cpuprofile.Start(path)
	runErr := fn()
	err := p.Stop()
	if runErr != nil {
		return nil, runErr
	}
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return topOfProfile(path, TopFunctions)
}

// topOfProfile reads a CPU profile and returns its n functions with the
// most flat CPU time, largest first (ties by name).
func topOfProfile(path string, n int) ([]ProfileEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return topFunctions(p, n), nil
}

// topFunctions sums each sample's CPU value on the innermost function of
// its leaf location.
func topFunctions(p *profile.Profile, n int) []ProfileEntry {
	vi := len(p.SampleType) - 1 // the CPU time is the last sample type ("cpu", "nanoseconds")
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			vi = i
		}
	}
	flat := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		if vi < 0 || vi >= len(s.Value) {
			continue
		}
		v := s.Value[vi]
		total += v
		name := "(unknown)"
		if len(s.Location) > 0 && len(s.Location[0].Line) > 0 && s.Location[0].Line[0].Function != nil {
			name = s.Location[0].Line[0].Function.Name
		}
		flat[name] += v
	}
	out := make([]ProfileEntry, 0, len(flat))
	for name, v := range flat {
		out = append(out, ProfileEntry{Function: name, Flat: float64(v) / float64(max(total, 1))})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Flat != out[j].Flat {
			return out[i].Flat > out[j].Flat
		}
		return out[i].Function < out[j].Function
	})
	return out[:min(n, len(out))]
}

// profilePath is where a run's profile of one phase ("train", "infer") goes.
func profilePath(run SpeedRun, phase string) string {
	if run.ProfileDir == "" {
		return ""
	}
	return filepath.Join(run.ProfileDir, run.Model.Name+"-"+phase+".pprof")
}
