package datamerge

import (
	"testing"
)

// A trajectory file read to resume a search may be anything (cut by a
// crash, edited, another search's): reading it never panics, and what it
// accepts is the evaluations in order from 0.
func FuzzParseTrajectory(f *testing.F) {
	want := TrajectoryHeader{Method: "ties", Sources: []string{"a", "b"}, Genes: []string{"all/a/weight"}, Seed: 1}
	f.Add([]byte(`{"evolve":{"method":"ties","sources":["a","b"],"genes":["all/a/weight"],"seed":1}}` + "\n" +
		`{"eval":0,"generation":0,"genome":[0.5],"params":[],"fitness":0.5,"loss":1}` + "\n"))
	f.Add([]byte(`{"eval":0,"generation":0,"genome":[0.5],"fitness":0.5,"loss":1,"infeasible":"x"}`))
	f.Add([]byte("{\"evolve\":{}}\n{\"eval\":"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _, err := parseTrajectory(data, want)
		if err != nil {
			return
		}
		for i, e := range entries {
			if e.Eval != i {
				t.Fatalf("entry %d has eval %d", i, e.Eval)
			}
		}
	})
}
