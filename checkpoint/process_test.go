package checkpoint

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// Tests that need real processes re-run this test binary as a helper,
// chosen by an environment variable, as the os/exec tests do.
const helperEnv = "CHECKPOINT_TEST_HELPER"

func TestHelperProcess(t *testing.T) {
	role := os.Getenv(helperEnv)
	if role == "" {
		t.Skip("only runs as a helper process")
	}
	s := &Store{Dir: os.Getenv("STORE")}
	var err error
	switch role {
	case "writer":
		err = helperWriter(s, envInt("MEMBER"), envInt("COUNT"))
	case "gc":
		err = helperGC(s, os.Getenv("STOP"))
	case "saver":
		err = helperSaver(s)
	default:
		err = fmt.Errorf("unknown helper %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func envInt(key string) int {
	n, _ := strconv.Atoi(os.Getenv(key))
	return n
}

// helper starts this test binary as the named helper.
func helper(t *testing.T, role string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+role), env...)
	return cmd
}

// helperWriter is one population member: it saves count models, each under
// one held shared lock (blobs, then the manifest), saves a second version
// of each (Replace with new blocks, so the first version's blocks become
// garbage), builds a Frankenstein model from each, and removes every other
// donor, all while other members and a gc run.
func helperWriter(s *Store, member, count int) error {
	for i := 0; i < count; i++ {
		name := fmt.Sprintf("member-%d-%d", member, i)
		for version := 0; version < 2; version++ {
			err := s.WithSharedLock(func() error {
				m := &Manifest{Name: name, Status: "training", Variant: "shuffle", Config: []byte(`{"dim":4}`)}
				var err error
				if m.Stem.Blob, err = s.PutBlob(stemPart(0)); err != nil { // shared by every member
					return err
				}
				for b := 0; b < 3; b++ {
					seed := int64(100000*member + 1000*i + 10*version + b)
					d, err := s.PutBlob(blockPart(seed))
					if err != nil {
						return err
					}
					m.Blocks = append(m.Blocks, PartRef{Blob: d, Source: name, Index: b})
				}
				if m.Head.Blob, err = s.PutBlob(headPart(int64(member))); err != nil {
					return err
				}
				if version == 0 {
					return s.Create(m)
				}
				m.Status = "complete"
				return s.Replace(m)
			})
			if err != nil {
				return fmt.Errorf("member %d: save %s v%d: %v", member, name, version, err)
			}
		}
		err := s.WithSharedLock(func() error {
			donor, err := s.Get(name)
			if err != nil {
				return err
			}
			frank := *donor
			frank.Name = fmt.Sprintf("frank-%d-%d", member, i)
			frank.Blocks = []PartRef{donor.Blocks[2], donor.Blocks[0], donor.Blocks[2]}
			return s.Create(&frank)
		})
		if err != nil {
			return fmt.Errorf("member %d: frankenstein of %s: %v", member, name, err)
		}
		if i%2 == 0 {
			if _, err := s.Remove(name); err != nil {
				return fmt.Errorf("member %d: %v", member, err)
			}
		}
	}
	return nil
}

// helperGC runs gc, and a check of the whole store, until stop exists. At
// every moment the store must be valid.
func helperGC(s *Store, stop string) error {
	var runs, freedBlobs int
	for {
		_, statErr := os.Stat(stop)
		freed, err := s.GC()
		if err != nil {
			return err
		}
		runs++
		freedBlobs += len(freed.Blobs)
		r, err := s.Check()
		if err != nil {
			return err
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("gc run %d: store invalid: %v", runs, err)
		}
		if statErr == nil {
			fmt.Printf("%d %d\n", runs, freedBlobs)
			return nil
		}
	}
}

// Parts of the crash test, large enough that a kill often lands inside
// a write.
func crashBlock(version, i int) Tensors {
	r := rand.New(rand.NewSource(int64(version*10 + i)))
	return Tensors{"w": randomTensor(r, 64, 64), "b": randomTensor(r, 64)}
}

// helperSaver saves new versions of the model "victim" forever (each with
// new blocks, replacing the previous manifest), running a gc now and then.
func helperSaver(s *Store) error {
	m, err := s.Get("victim")
	if err != nil {
		return err
	}
	for version := int(m.Seed) + 1; ; version++ {
		err := s.WithSharedLock(func() error {
			m.Seed = uint64(version)
			for i := range m.Blocks {
				d, err := s.PutBlob(crashBlock(version, i))
				if err != nil {
					return err
				}
				m.Blocks[i].Blob = d
			}
			return s.Replace(m)
		})
		if err != nil {
			return err
		}
		if version%4 == 0 {
			if _, err := s.GC(); err != nil {
				return err
			}
		}
	}
}

// Several processes write at once, one per population member, while
// another runs gc and a full check over and over; nothing is lost.
func TestProcessesWriteWhileGCRuns(t *testing.T) {
	s := newTestStore(t)
	stop := filepath.Join(t.TempDir(), "stop")
	const members, count = 3, 4
	gc := helper(t, "gc", "STORE="+s.Dir, "STOP="+stop)
	var gcOut, gcErr bytes.Buffer
	gc.Stdout, gc.Stderr = &gcOut, &gcErr
	if err := gc.Start(); err != nil {
		t.Fatal(err)
	}
	writers := make([]*exec.Cmd, members)
	outs := make([]*bytes.Buffer, members)
	for w := range writers {
		writers[w] = helper(t, "writer", "STORE="+s.Dir, fmt.Sprintf("MEMBER=%d", w), fmt.Sprintf("COUNT=%d", count))
		outs[w] = &bytes.Buffer{}
		writers[w].Stdout, writers[w].Stderr = outs[w], outs[w]
		if err := writers[w].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for w, cmd := range writers {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer %d: %v\n%s", w, err, outs[w])
		}
	}
	os.WriteFile(stop, nil, 0o644)
	if err := gc.Wait(); err != nil {
		t.Fatalf("gc: %v\n%s", err, gcErr.String())
	}
	var runs, freed int
	if _, err := fmt.Sscan(gcOut.String(), &runs, &freed); err != nil || runs < 2 || freed == 0 {
		// One run would be the run after the stop: no gc ran beside the writers.
		t.Errorf("gc ran %d times and freed %d blobs (%q, %v): it did not run beside the writers", runs, freed, gcOut.String(), err)
	}
	t.Logf("gc runs %d, blobs freed %d", runs, freed)
	ms, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := members * (count + count/2); len(ms) != want {
		t.Errorf("%d models, want %d", len(ms), want)
	}
	for _, m := range ms {
		if err := s.Verify(m.Name); err != nil {
			t.Error(err)
		}
		if strings.HasPrefix(m.Name, "member-") && m.Status != "complete" {
			t.Errorf("%s: status %q, the second version was lost", m.Name, m.Status)
		}
	}
	if _, err := s.GC(); err != nil {
		t.Fatal(err)
	}
	r, err := s.Check()
	if err != nil || !r.OK || len(r.Garbage) != 0 {
		t.Fatalf("final check: %+v, %v", r, err)
	}
	assertNoTemp(t, s.Dir)
}

// kill -9 at random moments of a save loop: after each kill every model
// verifies, and the victim's manifest is a whole version whose blobs are
// that version's, never a mix.
func TestKillDuringSaveLeavesTheStoreValid(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a process 30 times")
	}
	s := newTestStore(t)
	createModel(t, s, "bystander", 9, 2)
	victim := storeModel(t, s, "victim", 1, 3)
	victim.Seed = 0
	for i := range victim.Blocks {
		d, err := s.PutBlob(crashBlock(0, i))
		if err != nil {
			t.Fatal(err)
		}
		victim.Blocks[i].Blob = d
	}
	if err := s.Create(victim); err != nil {
		t.Fatal(err)
	}
	digestOf := func(version, i int) string {
		_, d, err := EncodeBlob(crashBlock(version, i))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	seed := time.Now().UnixNano()
	if v := os.Getenv("FRANKENVIT_KILL_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("FRANKENVIT_KILL_SEED=%q: %v", v, err)
		}
	}
	t.Logf("kill times drawn with seed %d (reproduce with FRANKENVIT_KILL_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	last, progressed, leftovers := uint64(0), 0, 0
	const kills = 30
	for k := 0; k < kills; k++ {
		cmd := helper(t, "saver", "STORE="+s.Dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.Intn(100)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: the saver was not killed but ended: %v\n%s", k, err, stderr.String())
		}
		r, err := s.Check()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Err(); err != nil {
			t.Fatalf("kill %d: %v", k, err)
		}
		m, err := s.Get("victim")
		if err != nil {
			t.Fatalf("kill %d: %v", k, err)
		}
		if m.Seed < last {
			t.Fatalf("kill %d: version went back from %d to %d", k, last, m.Seed)
		}
		for i, ref := range m.Blocks {
			if want := digestOf(int(m.Seed), i); ref.Blob != want {
				t.Fatalf("kill %d: version %d, block %d is %s, want %s", k, m.Seed, i, ref.Blob, want)
			}
		}
		if m.Seed > last {
			progressed++
		}
		last = m.Seed
		entries, _ := os.ReadDir(filepath.Join(s.Dir, "blobs", "sha256"))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), durable.TempPrefix) {
				leftovers++ // (the saver's own gc deletes them)
				break
			}
		}
	}
	t.Logf("%d kills: %d versions saved, %d kills after progress, %d found a temporary blob left behind", kills, last,
		progressed, leftovers)
	if last == 0 {
		t.Error("the saver never saved a version: the kills came too early to test anything")
	}
	freed, err := s.GC()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("final gc freed %d blobs and %d temporary files", len(freed.Blobs), freed.TempFiles)
	assertNoTemp(t, s.Dir)
	r, err := s.Check()
	if err != nil || !r.OK || len(r.Garbage) != 0 {
		t.Fatalf("after gc: %+v, %v", r, err)
	}
}
