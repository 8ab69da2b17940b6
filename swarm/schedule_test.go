package swarm

import (
	"slices"
	"testing"
	"time"
)

func TestScheduleIsSeededAndOrdered(t *testing.T) {
	f := Faults{Fail: 2, Slow: 1, SlowBy: time.Millisecond, Restart: true, Seed: 3}
	a, err := f.Schedule(6)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := f.Schedule(6)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different schedules:\n%v\n%v", a, b)
	}
	f.Seed = 4
	if c, _ := f.Schedule(6); slices.Equal(a, c) {
		t.Error("seeds 3 and 4 gave the same schedule")
	}
	kinds := map[string]int{}
	hit := map[int]string{}
	killedAt := map[int]float64{}
	for i, e := range a {
		kinds[e.Kind]++
		if i > 0 && e.At < a[i-1].At {
			t.Errorf("events out of order: %v", a)
		}
		switch e.Kind {
		case "kill":
			killedAt[e.Worker] = e.At
			if e.At < 0.25 || e.At > 0.5 {
				t.Errorf("kill at %v, want within 25-50%% of the run", e.At)
			}
		case "restart":
			if at, ok := killedAt[e.Worker]; !ok || e.At != at+0.25 {
				t.Errorf("restart of w%d at %v, its kill at %v", e.Worker, e.At, at)
			}
		case "slow":
			if prev, ok := hit[e.Worker]; ok {
				t.Errorf("w%d is slowed and %s", e.Worker, prev)
			}
		}
		if e.Kind != "restart" {
			hit[e.Worker] = e.Kind
		}
		if e.Worker < 0 || e.Worker >= 6 {
			t.Errorf("event for worker %d of 6", e.Worker)
		}
	}
	if kinds["kill"] != 2 || kinds["restart"] != 2 || kinds["slow"] != 1 {
		t.Errorf("events %v", a)
	}
	for _, bad := range []Faults{{Fail: 5, Slow: 2, SlowBy: 1}, {Fail: -1}, {Slow: 1}} {
		if _, err := bad.Schedule(6); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestLayout(t *testing.T) {
	for _, c := range []struct {
		n, depth int
		want     [][]int
	}{
		{6, 6, [][]int{{0}, {1}, {2}, {3}, {4}, {5}}},
		{4, 6, [][]int{{0, 4}, {1, 5}, {2}, {3}}},
		{8, 6, [][]int{{0}, {1}, {2}, {3}, {4}, {5}, {0}, {1}}},
		{1, 3, [][]int{{0, 1, 2}}},
	} {
		if got := Layout(c.n, c.depth); !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("Layout(%d, %d) = %v, want %v", c.n, c.depth, got, c.want)
		}
	}
}

func TestSummaryAndWindows(t *testing.T) {
	res := &Result{Wall: 10 * time.Second, Answers: make([]Answer, 6), Batches: []BatchRecord{
		{ID: 0, First: 0, Images: 2, Correct: 2, Ran: []int{0, 1}, Start: 0, End: 1},
		{ID: 1, First: 2, Images: 2, Correct: 1, Ran: []int{0}, Skipped: []int{1}, Start: 1, End: 4},
		{ID: 2, First: 4, Images: 2, Correct: 0, Start: 5, End: 9.5, Error: "head: no worker serves it"},
	}}
	for i := range res.Answers {
		res.Answers[i].Image = i
	}
	s := Summarise(res)
	// Latencies per image: 1000, 1000, 3000, 3000, 4500, 4500 ms.
	if s.Images != 6 || s.Answered != 4 || s.Correct != 3 || s.Accuracy != 0.5 || !s.AnsweredOnce || s.Skipping != 1 ||
		s.LatencyP50 != 3000 || s.LatencyP99 != 4500 || s.Throughput != 0.6 || s.BlocksRun != 1 {
		t.Errorf("summary %+v", s)
	}
	ws := Windows(res, []Event{{Kind: "kill", Worker: 1, Time: 3}, {Kind: "kill", Worker: 2, Time: -1}}, 2)
	if len(ws) != 2 || ws[0].Images != 4 || ws[0].Accuracy != 0.75 || ws[1].Images != 2 || ws[1].Accuracy != 0 ||
		ws[0].LatencyP50 != 2000 || !slices.Equal(ws[0].Events, []string{"kill w1"}) || ws[1].Events != nil || ws[0].BlocksRun != 1.5 {
		t.Errorf("windows %+v", ws)
	}
	res.Batches[1].First = 0 // image 0 twice, 2 and 3 never
	if Summarise(res).AnsweredOnce {
		t.Error("overlapping batches pass as answered once")
	}
}
