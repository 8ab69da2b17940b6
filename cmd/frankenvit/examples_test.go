package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
	"gopkg.in/yaml.v3"
)

// smallRun are flags appended to the examples' command lines (the last
// occurrence of a flag wins) so they train a tiny population quickly.
func smallRun(store, data string) []string {
	return []string{"--store", store, "--data", "idx:" + data, "--depth", "3", "--dim", "16", "--heads", "2", "--mlp", "24",
		"--patch", "4", "--parent-epochs", "1", "--epochs", "1", "--batch", "16", "--orders", "2"}
}

// TestSlurmExample runs examples/slurm/population.sbatch as two concurrent
// array tasks would, with Slurm's environment variables.
func TestSlurmExample(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 300, 50, 3); err != nil {
		t.Fatal(err)
	}
	var procs []*exec.Cmd
	for task := 0; task < 2; task++ {
		cmd := exec.Command("bash", append([]string{"../../examples/slurm/population.sbatch"}, smallRun(store, data)...)...)
		cmd.Env = append(os.Environ(), "FRANKENVIT="+binary, "SLURM_ARRAY_TASK_ID="+strconv.Itoa(task), "SLURM_ARRAY_TASK_MAX=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	for i, p := range procs {
		if err := p.Wait(); err != nil {
			t.Fatalf("array task %d: %v", i, err)
		}
	}
	for _, name := range []string{"pop-parent", "pop-0", "pop-1"} {
		blobsOf(t, store, name) // fails unless complete
	}
}

// TestKubernetesExample checks the Indexed Job's structure and runs its
// container command for two completion indexes, as the pods would.
func TestKubernetesExample(t *testing.T) {
	raw, err := os.ReadFile("../../examples/kubernetes/population-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Command []string
						Args    []string
					}
				}
			}
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	for dec.Decode(&job) == nil && job.Kind != "Job" {
	}
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("not an Indexed Job with one container: %+v", job)
	}
	c := job.Spec.Template.Spec.Containers[0]
	script := strings.Join(c.Args, " ")
	if !strings.Contains(script, `--member "$JOB_COMPLETION_INDEX"`) || !strings.Contains(script, "--size "+strconv.Itoa(job.Spec.Completions)) {
		t.Fatalf("the container does not train member $JOB_COMPLETION_INDEX of %d: %s", job.Spec.Completions, script)
	}
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 300, 50, 3); err != nil {
		t.Fatal(err)
	}
	// A small population: --size 2 and the tiny sizes override the file's.
	script += " --size 2 " + strings.Join(smallRun(store, data), " ")
	for index := 0; index < 2; index++ {
		cmd := exec.Command(c.Command[0], append(c.Command[1:], script)...)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"), "JOB_COMPLETION_INDEX="+strconv.Itoa(index))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pod %d: %v\n%s", index, err, out)
		}
	}
	for _, name := range []string{"pop-parent", "pop-0", "pop-1"} {
		blobsOf(t, store, name)
	}
}
