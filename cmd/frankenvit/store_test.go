package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
)

// part is a small part with one tensor whose values depend on seed.
func part(seed int) checkpoint.Tensors {
	data := make([]float32, 16)
	for i := range data {
		data[i] = float32(seed*100 + i)
	}
	return checkpoint.Tensors{"w": {Shape: []int{4, 4}, Data: data}}
}

// smallStore holds a and b (3 blocks each) and frank (a's stem and head,
// blocks b0, a1, b2), written through the checkpoint API, without training.
func smallStore(t *testing.T) (dir string, models map[string]*checkpoint.Manifest) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "store")
	s, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	models = map[string]*checkpoint.Manifest{}
	put := func(seed int) string {
		d, err := s.PutBlob(part(seed))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for k, name := range []string{"a", "b"} {
		// Records a model could run with (verify checks them too); the parts
		// are stand-ins, which only the blob checks read.
		m := &checkpoint.Manifest{Name: name, Status: "complete", Variant: "baseline", Data: "mnist",
			Config:        json.RawMessage(`{"image_height":8,"image_width":8,"channels":1,"patch":4,"dim":4,"heads":1,"mlp":4,"depth":3,"classes":2,"variant":"baseline"}`),
			Normalization: json.RawMessage(`{"mean":[0.1],"std":[0.3]}`)}
		m.Stem = checkpoint.PartRef{Blob: put(10 * k), Source: name}
		for i := 0; i < 3; i++ {
			m.Blocks = append(m.Blocks, checkpoint.PartRef{Blob: put(10*k + 1 + i), Source: name, Index: i})
		}
		m.Head = checkpoint.PartRef{Blob: put(10*k + 9), Source: name}
		if err := s.Create(m); err != nil {
			t.Fatal(err)
		}
		models[name] = m
	}
	a, b := models["a"], models["b"]
	frank := &checkpoint.Manifest{Name: "frank", Status: "complete", Variant: "baseline", Config: a.Config,
		Normalization: a.Normalization, Data: "mnist", Stem: a.Stem, Head: a.Head, Blocks: []checkpoint.PartRef{b.Blocks[0], a.Blocks[1], b.Blocks[2]}}
	if err := s.Create(frank); err != nil {
		t.Fatal(err)
	}
	models["frank"] = frank
	return dir, models
}

func blobFile(dir, digest string) string {
	return filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func TestCLIStoreVerify(t *testing.T) {
	store, models := smallStore(t)
	r := cli(t, nil, "--store", store, "store", "verify")
	if r.code != 0 || strings.Count(r.stdout, "OK") != 3 || r.stderr != "" {
		t.Fatalf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, nil, "--store", store, "store", "verify", "frank", "--json")
	var rep checkpoint.Report
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || !rep.OK || len(rep.Models) != 1 ||
		rep.Models[0].Parts != 5 {
		t.Fatalf("verify frank --json: exit %d, %+v\n%s%s", r.code, rep, r.stdout, r.stderr)
	}

	// Garbage is listed, not an error.
	s, _ := checkpoint.Open(store)
	garbage, err := s.PutBlob(part(77))
	if err != nil {
		t.Fatal(err)
	}
	r = cli(t, nil, "--store", store, "store", "verify")
	if r.code != 0 || !strings.Contains(r.stdout, garbage[:19]) || !strings.Contains(r.stdout, "garbage") {
		t.Errorf("verify with garbage: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// One flipped byte in b's block 1 (b's alone): b fails, naming the
	// part, the others pass.
	a, b := models["a"], models["b"]
	path := blobFile(store, b.Blocks[1].Blob)
	raw, _ := os.ReadFile(path)
	raw[len(raw)/2] ^= 0x01
	os.WriteFile(path, raw, 0o644)
	r = cli(t, nil, "--store", store, "store", "verify")
	failsCleanly(t, r, "store: model b: block 1 ("+b.Blocks[1].Blob+"): hash mismatch")
	if strings.Count(r.stdout, "OK") != 2 || !strings.Contains(r.stdout, "hash mismatch") {
		t.Errorf("table:\n%s", r.stdout)
	}
	if r := cli(t, nil, "--store", store, "store", "verify", "a"); r.code != 0 {
		t.Errorf("verify a: exit %d\n%s", r.code, r.stderr)
	}
	failsCleanly(t, cli(t, nil, "--store", store, "store", "verify", "b"), "model b: block 1")
	raw[len(raw)/2] ^= 0x01
	os.WriteFile(path, raw, 0o644) // repaired

	// A blob a manifest points at is missing.
	os.Remove(blobFile(store, a.Blocks[2].Blob))
	failsCleanly(t, cli(t, nil, "--store", store, "store", "verify"), "model a: block 2 ("+a.Blocks[2].Blob+"): missing")

	// A truncated manifest.
	manifest := filepath.Join(store, "models", "frank.json")
	whole, _ := os.ReadFile(manifest)
	os.WriteFile(manifest, whole[:len(whole)/3], 0o644)
	r = cli(t, nil, "--store", store, "store", "verify", "frank")
	failsCleanly(t, r, "model frank: manifest ("+manifest+"): unreadable")
	failsCleanly(t, cli(t, nil, "--store", store, "store", "show", "frank"), "model frank: manifest")

	failsCleanly(t, cli(t, nil, "--store", store, "store", "verify", "nosuch"), "model nosuch")
	failsCleanly(t, cli(t, nil, "--store", store, "store", "verify", "a", "b"), "accepts at most 1 arg")
}

func TestCLIStoreRmAndGC(t *testing.T) {
	store, models := smallStore(t)
	a := models["a"]
	// Removing the donor a frees only the blocks frank does not use.
	r := cli(t, nil, "--store", store, "store", "rm", "a", "--json")
	var freed struct {
		Model     string   `json:"model"`
		Blobs     []string `json:"blobs"`
		BlobBytes int64    `json:"blob_bytes"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &freed) != nil || freed.Model != "a" || len(freed.Blobs) != 2 ||
		freed.BlobBytes <= 0 {
		t.Fatalf("rm a: exit %d, %+v\n%s%s", r.code, freed, r.stdout, r.stderr)
	}
	for _, d := range []string{a.Blocks[0].Blob, a.Blocks[2].Blob} {
		if _, err := os.Stat(blobFile(store, d)); !os.IsNotExist(err) {
			t.Errorf("blob %s of a survived: %v", d, err)
		}
	}
	if r := cli(t, nil, "--store", store, "store", "verify"); r.code != 0 || strings.Count(r.stdout, "OK") != 2 {
		t.Errorf("after rm a: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	failsCleanly(t, cli(t, nil, "--store", store, "store", "rm", "a"), "model a: not found")

	// gc frees garbage and a killed writer's leftovers, and says how much.
	s, _ := checkpoint.Open(store)
	garbage, _ := s.PutBlob(part(55))
	gsize, _ := s.BlobSize(garbage)
	os.WriteFile(filepath.Join(store, "models", ".tmp-frank.json-1"), make([]byte, 10), 0o644)
	r = cli(t, nil, "--store", store, "store", "gc")
	if r.code != 0 || !strings.Contains(r.stdout, "UNREFERENCED BLOBS") && !strings.Contains(r.stdout, "unreferenced blobs") {
		t.Fatalf("gc: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, fmt.Sprint(gsize+10)) {
		t.Errorf("gc output does not show the %d bytes freed:\n%s", gsize+10, r.stdout)
	}
	r = cli(t, nil, "--store", store, "store", "gc", "--json")
	var again checkpoint.Freed
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &again) != nil || len(again.Blobs) != 0 || again.TempFiles != 0 {
		t.Errorf("second gc: exit %d, %+v\n%s", r.code, again, r.stdout)
	}

	// With a broken manifest, rm of another model and gc refuse and change nothing.
	manifest := filepath.Join(store, "models", "b.json")
	whole, _ := os.ReadFile(manifest)
	os.WriteFile(manifest, whole[:20], 0o644)
	failsCleanly(t, cli(t, nil, "--store", store, "store", "gc"), "model b: manifest")
	failsCleanly(t, cli(t, nil, "--store", store, "store", "rm", "frank"), "model b: manifest")
	if _, err := os.Stat(filepath.Join(store, "models", "frank.json")); err != nil {
		t.Errorf("a refused rm removed the manifest: %v", err)
	}
	if r := cli(t, nil, "--store", store, "store", "rm", "b"); r.code != 0 {
		t.Errorf("rm of the broken model: %s", r.stderr)
	}
	if r := cli(t, nil, "--store", store, "store", "verify"); r.code != 0 || strings.Count(r.stdout, "OK") != 1 {
		t.Errorf("frank after rm a and b: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
