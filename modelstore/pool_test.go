package modelstore

import (
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

// TestPooledDataCarving: the pool's training, validation and test splits
// are the tasks' own, each carved as a training on that task alone carves
// it (limit, fraction, seed), with task k's labels offset by k*C; one task
// of the tasks is the same images in the same numbering.
func TestPooledDataCarving(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Stripes(dir, 120, 30, 1); err != nil {
		t.Fatal(err)
	}
	tasks := []string{"idx:" + dir, "idx:" + dir + "@vflip", "idx:" + dir + "@invert"}
	base := DataOptions{ValFrac: 0.25, ValSeed: 7, Limit: 100}
	pool, err := LoadData(PooledData(base, tasks))
	if err != nil {
		t.Fatal(err)
	}
	if len(pool.Set.Classes) != 12 || !strings.HasPrefix(pool.Set.Classes[4], tasks[1]+"/") {
		t.Errorf("pooled classes %v", pool.Set.Classes)
	}
	const C = 4
	offTrain, offVal, offTest := 0, 0, 0
	for k, task := range tasks {
		alone, err := LoadData(DataOptions{Spec: task, ValFrac: 0.25, ValSeed: 7, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		view, err := LoadData(TaskData(base, tasks, k))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what       string
			pool, view []uint8
			alone      []uint8
			poolPix    []uint8
			alonePix   []uint8
		}{
			{"train", pool.Train.Labels[offTrain : offTrain+alone.Train.N], view.Train.Labels, alone.Train.Labels,
				pool.Train.Pixels[offTrain*64 : (offTrain+alone.Train.N)*64], alone.Train.Pixels},
			{"val", pool.Val.Labels[offVal : offVal+alone.Val.N], view.Val.Labels, alone.Val.Labels,
				pool.Val.Pixels[offVal*64 : (offVal+alone.Val.N)*64], alone.Val.Pixels},
			{"test", pool.Test.Labels[offTest : offTest+alone.Test.N], view.Test.Labels, alone.Test.Labels,
				pool.Test.Pixels[offTest*64 : (offTest+alone.Test.N)*64], alone.Test.Pixels},
		} {
			shifted := make([]uint8, len(c.alone))
			for i, l := range c.alone {
				shifted[i] = l + uint8(k*C)
			}
			if !slices.Equal(c.pool, shifted) || !slices.Equal(c.view, shifted) {
				t.Errorf("task %d %s: labels differ from the task's own plus %d", k, c.what, k*C)
			}
			if !slices.Equal(c.poolPix, c.alonePix) {
				t.Errorf("task %d %s: the pool holds other images than the task carved alone", k, c.what)
			}
		}
		offTrain, offVal, offTest = offTrain+alone.Train.N, offVal+alone.Val.N, offTest+alone.Test.N
	}
	if offTrain != pool.Train.N || offVal != pool.Val.N || offTest != pool.Test.N || pool.Val.N != 75 {
		t.Errorf("pool sizes %d/%d/%d, the tasks' %d/%d/%d", pool.Train.N, pool.Val.N, pool.Test.N, offTrain, offVal, offTest)
	}
	if _, err := LoadData(DataOptions{Spec: "mnist", Tasks: strings.Join(tasks, ",")}); err == nil {
		t.Error("data that is neither a task nor the pool was accepted")
	}
}
