package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/internal/testenv"
	"gopkg.in/yaml.v3"
)

type swarmBenchJSON struct {
	Images       int     `json:"images"`
	Answered     int     `json:"answered"`
	AnsweredOnce bool    `json:"answered_once"`
	Accuracy     float64 `json:"accuracy"`
	Late         int     `json:"late_answers_dropped"`
	Duplicate    int     `json:"duplicate_answers_dropped"`
	Events       []struct {
		Kind   string  `json:"kind"`
		Worker int     `json:"worker"`
		Time   float64 `json:"time_s"`
	} `json:"events"`
	Batches []struct {
		Ran     []int `json:"ran"`
		Skipped []int `json:"skipped"`
	} `json:"batches"`
	Local *struct {
		Accuracy float64 `json:"accuracy"`
		Same     int     `json:"same_predictions"`
	} `json:"local"`
}

// swarm bench starts workers as processes: without faults its predictions
// are eval's image by image; with a worker killed mid-run every image is
// still answered once, and batches after the kill skip the dead worker's
// block.
func TestCLISwarmBench(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 320, 200, 1); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, nil, tinyTrainArgs(store, data, "m")...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	bench := func(args ...string) swarmBenchJSON {
		t.Helper()
		r := cli(t, nil, append([]string{"--store", store, "swarm", "bench", "m", "--workers", "3", "--batch", "8", "--inflight", "2", "--json"}, args...)...)
		var out swarmBenchJSON
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
			t.Fatalf("swarm bench %v: exit %d\n%s\n%s", args, r.code, r.stdout, r.stderr)
		}
		if out.Images != 200 || !out.AnsweredOnce || out.Duplicate != 0 {
			t.Errorf("swarm bench %v: %d images, answered once %v, %d duplicates", args, out.Images, out.AnsweredOnce, out.Duplicate)
		}
		return out
	}
	ok := bench("--order", "2,0,1")
	if ok.Local == nil || ok.Local.Same != 200 || ok.Answered != 200 || ok.Accuracy != ok.Local.Accuracy {
		t.Errorf("no faults: %+v, local %+v: want the swarm's 200 predictions to equal eval's", ok, ok.Local)
	}
	ev := cli(t, nil, "--store", store, "eval", "m", "--order", "2,0,1", "--json")
	var e struct{ Accuracy float64 }
	if ev.code != 0 || json.Unmarshal([]byte(ev.stdout), &e) != nil || e.Accuracy != ok.Accuracy {
		t.Errorf("eval --order 2,0,1 gives %v, the swarm %v\n%s", e.Accuracy, ok.Accuracy, ev.stderr)
	}

	hit := bench("--fail", "1", "--seed", "4", "--deadline", "300ms")
	if len(hit.Events) != 1 || hit.Events[0].Kind != "kill" || hit.Events[0].Time < 0 || hit.Answered != 200 {
		t.Fatalf("--fail 1: events %+v, answered %d", hit.Events, hit.Answered)
	}
	dead := hit.Events[0].Worker // worker i serves block i of 3
	skipped := 0
	for _, b := range hit.Batches {
		if len(b.Skipped) > 0 {
			skipped++
			if len(b.Skipped) != 1 || b.Skipped[0] != dead || len(b.Ran) != 2 {
				t.Errorf("a batch ran %v and skipped %v; only block %d died", b.Ran, b.Skipped, dead)
			}
		}
	}
	if last := hit.Batches[len(hit.Batches)-1]; skipped < 5 || len(last.Skipped) != 1 {
		t.Errorf("%d of %d batches skipped the killed worker's block (the last skipped %v)", skipped, len(hit.Batches), last.Skipped)
	}

	dir := t.TempDir()
	csv, svg, answers := filepath.Join(dir, "w.csv"), filepath.Join(dir, "w.svg"), filepath.Join(dir, "a.csv")
	r := cli(t, nil, "--store", store, "swarm", "bench", "m", "--workers", "3", "--fail", "1", "--restart", "--order", "arrival",
		"--csv", csv, "--plot", svg, "--windows", "4", "--answers", answers)
	if r.code != 0 || !strings.Contains(r.stdout, "swarm: 3 block workers, order arrival") {
		t.Fatalf("swarm bench --restart --order arrival: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(csv); err != nil || len(strings.Split(strings.TrimSpace(string(b)), "\n")) != 5 {
		t.Errorf("--csv: %v\n%s", err, b)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("--plot: %v", err)
	}
	b, err := os.ReadFile(answers)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	seen := map[string]bool{}
	for _, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) < 7 || f[0] != "m" || seen[f[1]] {
			t.Errorf("--answers: row %q (a second answer or not m's)", line)
		}
		seen[f[1]] = true
	}
	if err != nil || lines[0] != "model,image,label,prediction,batch,ran,skipped" || len(seen) != 200 {
		t.Errorf("--answers: %v, header %q, %d images answered", err, lines[0], len(seen))
	}
	if !strings.Contains(r.stderr, "restart w") {
		t.Errorf("no restart logged:\n%s", r.stderr)
	}
}

// Bad input is one error line and a non-zero exit.
func TestCLISwarmRefusals(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 64, 16, 1); err != nil {
		t.Fatal(err)
	}
	args := tinyTrainArgs(store, data, "m")
	for i, a := range args {
		if a == "--epochs" {
			args[i+1] = "1"
		}
	}
	if r := cli(t, nil, args...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"swarm", "bench", "nosuch"}, "nosuch"},
		{[]string{"swarm", "bench", "m", "--workers", "3", "--fail", "2", "--slow", "2"}, "there are 3"},
		{[]string{"swarm", "bench", "m", "--order", "0,7"}, "block 7 does not exist"},
		{[]string{"swarm", "bench", "m", "--workers", "2000000000"}, "--workers must be from 1 to 256"},
		{[]string{"swarm", "bench", "m", "--windows", "2000000000"}, "--windows must be from 0 to 1000"},
		{[]string{"swarm", "bench", "m", "--order", "random:2000000000"}, "from 1 to 100000"},
		{[]string{"swarm", "bench", "m", "--order", "sideways"}, "arrival"},
		{[]string{"swarm", "bench", "m", "--plot", "x.txt"}, "--plot"},
		{[]string{"swarm", "bench", "m", "--deadline", "0s"}, "--deadline"},
		{[]string{"swarm", "eval", "m", "--nats", "nats://127.0.0.1:1"}, "connect to NATS"},
		{[]string{"serve", "--blocks", "m:9", "--nats", "nats://127.0.0.1:1"}, "block 9 does not exist"},
		{[]string{"serve", "--blocks", "m", "--nats", "nats://127.0.0.1:1"}, "NAME:INDICES"},
		{[]string{"serve", "--nats", "nats://127.0.0.1:1"}, "serves nothing"},
		{[]string{"serve", "--ends", "a.b", "--nats", "nats://127.0.0.1:1"}, "NATS subject"},
	} {
		failsCleanly(t, cli(t, nil, append([]string{"--store", store}, c.args...)...), c.want)
	}
}

// TestKubernetesSwarmExample runs examples/kubernetes/swarm.yaml's
// containers as processes on this machine (the stem-and-head pod also runs
// the NATS server, standing in for the Service): one worker per block
// Deployment, then the router Job, whose JSON must answer every image.
func TestKubernetesSwarmExample(t *testing.T) {
	raw, err := os.ReadFile("../../examples/kubernetes/swarm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Command, Args []string
	}
	var deployments, jobs [][]string
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var doc struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				Template struct {
					Spec struct{ Containers []container }
				}
			}
		}
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, c := range doc.Spec.Template.Spec.Containers {
			if len(c.Command) == 1 && c.Command[0] == "frankenvit" {
				switch doc.Kind {
				case "Deployment":
					deployments = append(deployments, c.Args)
				case "Job":
					jobs = append(jobs, c.Args)
				}
			}
		}
	}
	if len(deployments) != 7 || len(jobs) != 1 {
		t.Fatalf("want 7 frankenvit Deployments (stem and head, 6 blocks) and one Job, got %d and %d", len(deployments), len(jobs))
	}
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 200, 60, 2); err != nil {
		t.Fatal(err)
	}
	train := tinyTrainArgs(store, data, "pf-shuf-0")
	train = append(train, "--depth", "6", "--epochs", "1")
	if r := cli(t, nil, train...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	url := "nats://" + addr
	pod := func(args []string, i int) []string {
		out := make([]string, 0, len(args))
		for _, a := range args {
			switch a {
			case "/store":
				a = store
			case "nats://frankenvit-nats:4222":
				a = url
			case "$(POD_NAME)":
				a = "pod-" + strconv.Itoa(i)
			}
			out = append(out, a)
		}
		return out
	}
	var procs []*exec.Cmd
	var logs []*bytes.Buffer // one per process: each written by its own copier
	stop := func() string {
		var all strings.Builder
		for i, p := range procs {
			p.Process.Kill()
			p.Wait()
			all.WriteString(logs[i].String())
		}
		procs = nil
		return all.String()
	}
	defer stop()
	for i, args := range deployments {
		a := pod(args, i)
		if i == 0 { // the stem-and-head pod hosts the NATS server
			for j := range a {
				if a[j] == "--nats" {
					a[j], a[j+1] = "--listen", addr
				}
			}
		}
		p := exec.Command(binary, a...)
		logs = append(logs, new(bytes.Buffer))
		p.Stderr = logs[i]
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
		if i == 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	r := cli(t, nil, pod(jobs[0], 0)...)
	var out struct {
		Images       int     `json:"images"`
		Answered     int     `json:"answered"`
		AnsweredOnce bool    `json:"answered_once"`
		Order        string  `json:"order"`
		BlocksRun    float64 `json:"blocks_run"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.Images != 60 || out.Answered != 60 ||
		!out.AnsweredOnce || out.Order != "arrival" || out.BlocksRun != 6 {
		t.Fatalf("router job: exit %d, %+v\n%s\n%s\nworkers:\n%s", r.code, out, r.stdout, r.stderr, stop())
	}
}

// On Fashion-MNIST: a model trained briefly, served by 6 worker processes,
// answers as eval does, image by image.
func TestCLISwarmRealData(t *testing.T) {
	testenv.NeedFashionMNIST(t)
	store := filepath.Join(t.TempDir(), "store")
	if r := cli(t, nil, "--store", store, "train", "fm", "--data", "fashion-mnist", "--limit", "1000", "--epochs", "1", "--variant", "shuffle"); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	r := cli(t, nil, "--store", store, "swarm", "bench", "fm", "--workers", "6", "--limit", "500", "--order", "5,4,3,2,1,0", "--json")
	var out swarmBenchJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.Local == nil {
		t.Fatalf("swarm bench: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if out.Images != 500 || out.Answered != 500 || !out.AnsweredOnce || out.Local.Same != 500 || out.Accuracy != out.Local.Accuracy || out.Accuracy < 0.3 {
		t.Errorf("%d images, %d answered, %d as eval answers, accuracy %v (eval %v)", out.Images, out.Answered, out.Local.Same, out.Accuracy, out.Local.Accuracy)
	}
}
