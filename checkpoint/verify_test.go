package checkpoint

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// threeModels stores a, b and frank (a's stem and head, blocks of both).
func threeModels(t *testing.T) (s *Store, a, b, frank *Manifest) {
	t.Helper()
	s = newTestStore(t)
	a = createModel(t, s, "a", 1, 3)
	b = createModel(t, s, "b", 2, 3)
	frank = &Manifest{Name: "frank", Status: "complete", Variant: a.Variant, Config: a.Config, Data: a.Data,
		Stem: a.Stem, Head: a.Head, Blocks: []PartRef{b.Blocks[0], a.Blocks[1], b.Blocks[0]}}
	if err := s.Create(frank); err != nil {
		t.Fatal(err)
	}
	return s, a, b, frank
}

func modelReport(t *testing.T, r *Report, name string) ModelReport {
	t.Helper()
	for _, m := range r.Models {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no report for model %s in %+v", name, r.Models)
	return ModelReport{}
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	b := mustRead(t, path)
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckIntactStoreReportsGarbageAsNoProblem(t *testing.T) {
	s, a, _, _ := threeModels(t)
	garbage, err := s.PutBlob(blockPart(999)) // referenced by no manifest
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Err() != nil || len(r.Models) != 3 {
		t.Fatalf("report %+v, err %v", r, r.Err())
	}
	if m := modelReport(t, r, "frank"); m.Parts != 5 || !m.OK {
		t.Errorf("frank: %+v", m)
	}
	if r.Blobs != 2*5+1 { // each distinct blob once, the garbage too
		t.Errorf("%d blobs checked, want 11", r.Blobs)
	}
	size, _ := s.BlobSize(garbage)
	if len(r.Garbage) != 1 || r.Garbage[0].Blob != garbage || r.Garbage[0].Bytes != size || r.Garbage[0].Problem != "" {
		t.Errorf("garbage %+v, want %s of %d bytes", r.Garbage, garbage, size)
	}
	// Only the named models, and no garbage scan.
	r, err = s.Check("a")
	if err != nil || !r.OK || len(r.Models) != 1 || len(r.Garbage) != 0 || r.Blobs != len(a.Blocks)+2 {
		t.Errorf("Check(a): %+v, %v", r, err)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Error(err)
	}
}

func TestCheckCorruptBlob(t *testing.T) {
	s, _, b, _ := threeModels(t)
	flipByte(t, s.blobPath(b.Blocks[2].Blob)) // only b uses its block 2
	r, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	if r.OK {
		t.Fatal("a flipped byte passed")
	}
	if m := modelReport(t, r, "a"); !m.OK {
		t.Errorf("a is affected: %+v", m.Problems)
	}
	if m := modelReport(t, r, "frank"); !m.OK {
		t.Errorf("frank is affected: %+v", m.Problems)
	}
	mb := modelReport(t, r, "b")
	if len(mb.Problems) != 1 || mb.Problems[0].Part != "block 2" || mb.Problems[0].Problem != "hash mismatch" ||
		mb.Problems[0].Blob != b.Blocks[2].Blob {
		t.Fatalf("b: %+v", mb.Problems)
	}
	want := "store: model b: block 2 (" + b.Blocks[2].Blob + "): hash mismatch"
	if err := r.Err(); err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %v, want it to start %q", err, want)
	}
	if err := s.Verify("b"); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Verify(b): %v", err)
	}
	for _, name := range []string{"a", "frank"} {
		if err := s.Verify(name); err != nil {
			t.Errorf("Verify(%s): %v", name, err)
		}
	}
	// Loading refuses it the same way.
	if _, _, _, err := s.LoadParts(b); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("LoadParts: %v", err)
	}
}

func TestCheckCorruptSharedBlobNamesEveryUser(t *testing.T) {
	s, _, b, _ := threeModels(t)
	flipByte(t, s.blobPath(b.Blocks[0].Blob)) // b's block 0 is frank's blocks 0 and 2
	r, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range r.Problems() {
		got = append(got, p.Model+"/"+p.Part)
	}
	if strings.Join(got, ",") != "b/block 0,frank/block 0,frank/block 2" {
		t.Errorf("problems %v", got)
	}
	if !modelReport(t, r, "a").OK {
		t.Error("a is affected")
	}
	msg := r.Err().Error()
	if !strings.HasPrefix(msg, "store: 3 problems: model b: block 0 (") || strings.Contains(msg, "\n") {
		t.Errorf("error %q", msg)
	}
}

func TestCheckTruncatedManifest(t *testing.T) {
	s, a, _, _ := threeModels(t)
	path := s.manifestPath("b")
	whole := mustRead(t, path)
	os.WriteFile(path, whole[:len(whole)/2], 0o644)
	r, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	mb := modelReport(t, r, "b")
	if len(mb.Problems) != 1 || mb.Problems[0].Part != "manifest" || mb.Problems[0].Problem != "unreadable" {
		t.Fatalf("b: %+v", mb.Problems)
	}
	for _, name := range []string{"a", "frank"} {
		if !modelReport(t, r, name).OK {
			t.Errorf("%s is affected", name)
		}
		if err := s.Verify(name); err != nil {
			t.Error(err)
		}
	}
	want := "store: model b: manifest (" + path + "): unreadable: invalid JSON"
	if err := s.Verify("b"); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Verify(b): %v, want %q", err, want)
	}
	if _, err := s.Get("b"); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Get(b): %v", err)
	}
	// The blobs the surviving half names are not called garbage.
	for _, g := range r.Garbage {
		if strings.Contains(string(whole[:len(whole)/2]), g.Blob) {
			t.Errorf("blob %s named in b's manifest reported as garbage", g.Blob)
		}
	}
	// While b's references are unknown, rm of another model and gc change
	// nothing, and say why.
	sizeBefore, _ := s.Size()
	if _, err := s.Remove("a"); err == nil || !strings.Contains(err.Error(), "model b: manifest") || !s.Exists("a") {
		t.Errorf("Remove(a) with b broken: %v", err)
	}
	if _, err := s.GC(); err == nil || !strings.Contains(err.Error(), "model b: manifest") {
		t.Errorf("GC with b broken: %v", err)
	}
	if after, _ := s.Size(); after != sizeBefore {
		t.Errorf("store changed from %d to %d bytes", sizeBefore, after)
	}
	// The broken model itself can be removed; a's blobs stay.
	if _, err := s.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify("a"); err != nil || !s.HasBlob(a.Blocks[0].Blob) {
		t.Errorf("after rm b: %v", err)
	}
}

func TestCheckMissingBlob(t *testing.T) {
	s, a, _, _ := threeModels(t)
	os.Remove(s.blobPath(a.Blocks[2].Blob)) // only a uses its block 2
	r, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	ma := modelReport(t, r, "a")
	if len(ma.Problems) != 1 || ma.Problems[0].Part != "block 2" || ma.Problems[0].Problem != "missing" {
		t.Fatalf("a: %+v", ma.Problems)
	}
	if !modelReport(t, r, "b").OK || !modelReport(t, r, "frank").OK {
		t.Error("another model is affected")
	}
	err = s.Verify("a")
	want := "store: model a: block 2 (" + a.Blocks[2].Blob + "): missing"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, ErrNotFound) {
		t.Errorf("Verify(a): %v, want %q wrapping ErrNotFound", err, want)
	}
	if _, _, _, err := s.LoadParts(a); err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadParts: %v", err)
	}
}

func TestVerifyUnknownModel(t *testing.T) {
	s := newTestStore(t)
	err := s.Verify("nosuch")
	if !errors.Is(err, ErrNotFound) || err.Error() != "store: model nosuch: no model nosuch in "+s.Dir {
		t.Errorf("Verify(nosuch): %v", err)
	}
	if _, err := s.Get("nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nosuch): %v", err)
	}
	if err := s.Verify("../x"); err == nil || !strings.HasPrefix(err.Error(), "store: invalid model name") {
		t.Errorf("Verify(../x): %v", err)
	}
}

func TestVerifyErrorListsAFewProblemsOnOneLine(t *testing.T) {
	s := newTestStore(t)
	m := createModel(t, s, "deep", 1, 8)
	for _, ref := range m.Blocks {
		os.Remove(s.blobPath(ref.Blob))
	}
	err := s.Verify("deep")
	msg := err.Error()
	if !strings.HasPrefix(msg, "store: 8 problems: model deep: block 0 (") || !strings.HasSuffix(msg, "; and 3 more") ||
		strings.Contains(msg, "\n") {
		t.Errorf("error %q", msg)
	}
}
