package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

// sweepStore trains a tiny population (parent + 2 members) and one model on
// synthetic stripes.
func sweepStore(t *testing.T) (store string) {
	t.Helper()
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 320, 80, 1); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, nil, tinyTrainArgs(store, data, "solo")...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	pop := append(tinyTrainArgs(store, data, "pop")[:2], "population", "pop", "--size", "2", "--parent-epochs", "2", "--orders", "2")
	pop = append(pop, tinyTrainArgs(store, data, "x")[4:]...)
	if r := cli(t, nil, pop...); r.code != 0 {
		t.Fatalf("population: %s", r.stderr)
	}
	return store
}

func readAll(t *testing.T, paths ...string) [][]byte {
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// A sweep run in shards and merged gives the same table, CSV, JSON and plot
// as the sweep run at once.
func TestCLISweepShardsEqualWhole(t *testing.T) {
	store := sweepStore(t)
	dir := t.TempDir()
	for _, sweep := range [][]string{
		{"orders", "--orders", "3", "--repeats", "2", "--order-batch", "8"},
		{"depth", "--seeds", "2", "--strategies", "all", "--reference", "pop-parent"},
		{"merge", "--draws", "3"},
	} {
		kind := sweep[0]
		base := append([]string{"--store", store, "bench"}, append(sweep, "pop", "solo", "--seed", "4")...)
		out := func(name string) []string {
			p := filepath.Join(dir, kind+"-"+name)
			return []string{"--json", p + ".json", "--csv", p + ".csv", "--plot", p + ".svg"}
		}
		whole := cli(t, nil, append(base, out("whole")...)...)
		if whole.code != 0 || !strings.Contains(whole.stdout, "pop") || !strings.Contains(whole.stdout, "solo") {
			t.Fatalf("%s: exit %d\n%s%s", kind, whole.code, whole.stdout, whole.stderr)
		}
		var shards []string
		for _, sh := range []string{"0/3", "1/3", "2/3"} {
			p := filepath.Join(dir, kind+"-shard"+sh[:1]+".json")
			if r := cli(t, nil, append(base, "--shard", sh, "--json", p)...); r.code != 0 || !strings.Contains(r.stdout, "shard "+sh) {
				t.Fatalf("%s shard %s: exit %d\n%s%s", kind, sh, r.code, r.stdout, r.stderr)
			}
			shards = append(shards, p)
		}
		merged := cli(t, nil, append([]string{"bench", "merge-results", shards[2], shards[0], shards[1]}, out("merged")...)...)
		if merged.code != 0 || merged.stdout != whole.stdout {
			t.Errorf("%s: merged table differs:\n%s\nwhole:\n%s%s", kind, merged.stdout, whole.stdout, merged.stderr)
		}
		for _, ext := range []string{".json", ".csv", ".svg"} {
			files := readAll(t, filepath.Join(dir, kind+"-whole"+ext), filepath.Join(dir, kind+"-merged"+ext))
			if !bytes.Equal(files[0], files[1]) {
				t.Errorf("%s: merged %s differs from the whole sweep's", kind, ext)
			}
		}
		failsCleanly(t, cli(t, nil, "bench", "merge-results", shards[0], shards[1]), "shards 2/3 are missing")
	}
	csv := string(readAll(t, filepath.Join(dir, "depth-whole.csv"))[0])
	for _, want := range []string{"pop,shuffle,greedy,1,2,2,", "solo,shuffle,influence,2,1,1,", "pop-parent,shuffle,reference,0,3,1,"} {
		if !strings.Contains(csv, want) {
			t.Errorf("depth CSV lacks a row starting %q:\n%s", want, csv)
		}
	}
}

func TestCLISweepBadInput(t *testing.T) {
	store := sweepStore(t)
	out := t.TempDir()
	plot := filepath.Join(out, "p.svg")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "orders", "nope"), "nope is not a model or a population")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "orders", "solo", "--shard", "3/3"), "--shard")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "orders", "solo", "--plot", filepath.Join(out, "p.pdf")), ".svg or .png")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "orders", "solo", "--csv", filepath.Join(out, "no", "x.csv")), "--csv")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "orders", "solo", "--orders", "0", "--plot", plot), "--orders")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "orders", "solo", "--split", "train"), "--split")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "depth", "solo", "--strategies", "last,bogus"), "unknown pruning strategy")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "depth", "solo", "--reference", "pop"), "--reference")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "depth", "solo", "pop-0", "pop"), "named twice")
	failsCleanly(t, cli(t, nil, "--store", store, "bench", "merge", "pop", "--draws", "0"), "--draws")
	notJSON := filepath.Join(out, "x.json")
	os.WriteFile(notJSON, []byte("sweep,results\n"), 0o644)
	failsCleanly(t, cli(t, nil, "bench", "merge-results", notJSON, "--plot", plot), "not a sweep result")
	failsCleanly(t, cli(t, nil, "bench", "merge-results", filepath.Join(out, "missing.json")), "missing.json")
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("failed sweeps left %d files in the output directory, want only the test's own x.json", len(entries))
	}
}
