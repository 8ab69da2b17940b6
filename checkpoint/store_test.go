package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestOpenCreatesLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "store")
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"blobs/sha256", "models"} {
		if info, err := os.Stat(filepath.Join(dir, sub)); err != nil || !info.IsDir() {
			t.Errorf("%s: %v", sub, err)
		}
	}
	if _, err := Open(dir); err != nil {
		t.Errorf("reopening: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("store inside a file: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("FRANKENVIT_STORE", "")
	if got := DefaultDir(); got != "frankenvit-store" {
		t.Errorf("DefaultDir() = %q", got)
	}
	t.Setenv("FRANKENVIT_STORE", "/tmp/elsewhere")
	if got := DefaultDir(); got != "/tmp/elsewhere" {
		t.Errorf("DefaultDir() = %q with FRANKENVIT_STORE set", got)
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"a", "m0", "pop-3", "A.b_c-1", "9", strings.Repeat("x", 128)} {
		if err := ValidName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".hidden", "-x", "_x", "a..b", "a/b", "a b", "ü", "a\x00", "x.json/..", strings.Repeat("x", 129)} {
		err := ValidName(bad)
		if err == nil || !strings.HasPrefix(err.Error(), "store: invalid model name") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestCreateGetRoundTrip(t *testing.T) {
	s := newTestStore(t)
	m := storeModel(t, s, "m1", 1, 3)
	m.FormatVersion, m.Blocks[1].Source = 0, "donor" // defaults are filled in
	m.Training = json.RawMessage(`{"lr": 0.001}`)
	if err := s.Create(m); err != nil {
		t.Fatal(err)
	}
	if m.FormatVersion != 1 || m.CreatedAt.IsZero() {
		t.Errorf("defaults not filled: version %d, created %v", m.FormatVersion, m.CreatedAt)
	}
	got, err := s.Get("m1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(m.CreatedAt) {
		t.Errorf("created %v, want %v", got.CreatedAt, m.CreatedAt)
	}
	got.CreatedAt = m.CreatedAt
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(m)
	if !bytes.Equal(a, b) {
		t.Errorf("manifest changed:\n got %s\nwant %s", a, b)
	}
	if !s.Exists("m1") || s.Exists("m2") || s.Exists("../m1") {
		t.Error("Exists is wrong")
	}
	stem, blocks, head, err := s.LoadParts(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameTensors(stem, stemPart(1)); err != nil {
		t.Error(err)
	}
	if err := sameTensors(head, headPart(1)); err != nil {
		t.Error(err)
	}
	for i, blk := range blocks {
		if err := sameTensors(blk, blockPart(100+int64(i))); err != nil {
			t.Errorf("block %d: %v", i, err)
		}
	}
	if err := s.Verify("m1"); err != nil {
		t.Error(err)
	}
	assertNoTemp(t, s.Dir)
}

func TestCreateRefusesAnExistingName(t *testing.T) {
	s := newTestStore(t)
	createModel(t, s, "taken", 1, 2)
	path := s.manifestPath("taken")
	before := mustRead(t, path)
	again := storeModel(t, s, "taken", 2, 1)
	err := s.Create(again)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("error %v, want ErrExists naming the model", err)
	}
	if after := mustRead(t, path); !bytes.Equal(before, after) {
		t.Error("the existing manifest changed")
	}
	assertNoTemp(t, s.Dir)
}

func TestCreateRefusesAMissingBlobAndWritesNothing(t *testing.T) {
	s := newTestStore(t)
	m := storeModel(t, s, "holey", 1, 3)
	missing := DigestOf([]byte("never stored"))
	m.Blocks[2].Blob = missing
	sizeBefore, _ := s.Size()
	err := s.Create(m)
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "block 2") {
		t.Fatalf("error %v, want one naming block 2 and %s", err, missing)
	}
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("error %v does not wrap ErrNotFound", err)
	}
	if s.Exists("holey") {
		t.Error("the manifest was written")
	}
	if sizeAfter, _ := s.Size(); sizeAfter != sizeBefore {
		t.Errorf("store grew from %d to %d bytes", sizeBefore, sizeAfter)
	}
	assertNoTemp(t, s.Dir)
}

func TestCreateValidates(t *testing.T) {
	s := newTestStore(t)
	good := storeModel(t, s, "v", 1, 1)
	for what, edit := range map[string]func(m *Manifest){
		"invalid model name": func(m *Manifest) { m.Name = "../evil" },
		"format_version":     func(m *Manifest) { m.FormatVersion = 2 },
		"invalid blob":       func(m *Manifest) { m.Head.Blob = "sha256:xyz" },
		"negative index":     func(m *Manifest) { m.Blocks[0].Index = -1 },
		"parent":             func(m *Manifest) { m.Parent = "a/b" },
		"config":             func(m *Manifest) { m.Config = json.RawMessage(`{"dim":`) },
		"metric":             func(m *Manifest) { m.Metrics = map[string]float64{"loss": posInf()} },
	} {
		m := *good
		m.Blocks = append([]PartRef(nil), good.Blocks...)
		edit(&m)
		err := s.Create(&m)
		if err == nil || !strings.Contains(err.Error(), what) || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("%s: %v", what, err)
		}
	}
	if entries, _ := os.ReadDir(s.modelsDir()); len(entries) != 0 {
		t.Errorf("invalid manifests wrote %d files", len(entries))
	}
}

func posInf() float64 { var zero float64; return 1 / zero }

func TestGetBrokenManifests(t *testing.T) {
	s := newTestStore(t)
	createModel(t, s, "ok", 1, 1)
	whole := mustRead(t, s.manifestPath("ok"))
	for what, content := range map[string][]byte{
		"truncated":      whole[:len(whole)/2],
		"empty":          nil,
		"wrong name":     bytes.Replace(whole, []byte(`"name": "ok"`), []byte(`"name": "other"`), 1),
		"newer version":  bytes.Replace(whole, []byte(`"format_version": 1`), []byte(`"format_version": 7`), 1),
		"unknown field":  bytes.Replace(whole, []byte(`"seed"`), []byte(`"sede"`), 1),
		"trailing data":  append(bytes.Clone(whole), "{}"...),
		"bad blob":       bytes.Replace(whole, []byte(`"blob": "sha256:`), []byte(`"blob": "sha257:`), 1),
		"not an object":  []byte(`[1,2,3]`),
		"no version":     []byte(`{"name":"broken"}`),
		"invalid config": bytes.Replace(whole, []byte(`"config": {`), []byte(`"config": {"x":}`), 1),
	} {
		os.WriteFile(s.manifestPath("broken"), content, 0o644)
		_, err := s.Get("broken")
		if err == nil {
			t.Errorf("%s: accepted", what)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "store: model broken: ") || strings.Contains(msg, "\n") || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: error %q should be one line naming the model", what, msg)
		}
	}
	if _, err := s.Get("absent"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "absent") {
		t.Errorf("missing model: %v", err)
	}
	if _, err := s.Get("../x"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("invalid name: %v", err)
	}
}

func TestReplace(t *testing.T) {
	s := newTestStore(t)
	m := createModel(t, s, "growing", 1, 2)
	m.Status = "training"
	m.History = json.RawMessage(`[{"epoch":1}]`)
	m.Blocks = m.Blocks[:1]
	if err := s.Replace(m); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("growing")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "training" || len(got.Blocks) != 1 || string(got.History) != `[{"epoch":1}]` {
		t.Errorf("replaced manifest: %+v", got)
	}
	fresh := storeModel(t, s, "fresh", 2, 1)
	if err := s.Replace(fresh); !errors.Is(err, ErrNotFound) {
		t.Errorf("replacing a missing model: %v", err)
	}
	if s.Exists("fresh") {
		t.Error("Replace created a model")
	}
	m.Head.Blob = DigestOf(nil)
	before := mustRead(t, s.manifestPath("growing"))
	if err := s.Replace(m); err == nil || !strings.Contains(err.Error(), "head") {
		t.Errorf("replace with a missing blob: %v", err)
	}
	if !bytes.Equal(before, mustRead(t, s.manifestPath("growing"))) {
		t.Error("a failed Replace changed the manifest")
	}
	assertNoTemp(t, s.Dir)
}

func TestListReportsBrokenManifestsWithoutHidingOthers(t *testing.T) {
	s := newTestStore(t)
	createModel(t, s, "c", 3, 1)
	createModel(t, s, "a", 1, 1)
	createModel(t, s, "b", 2, 1)
	os.WriteFile(s.manifestPath("broken"), []byte(`{"format_version": 1, "name": "bro`), 0o644)
	os.WriteFile(filepath.Join(s.modelsDir(), ".tmp-x.json"), []byte("junk"), 0o644) // in-flight temp file
	os.WriteFile(filepath.Join(s.modelsDir(), "README"), []byte("not a manifest"), 0o644)
	ms, err := s.List()
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "c"}) {
		t.Errorf("listed %v", names)
	}
	var le *ListError
	if !errors.As(err, &le) || len(le.Broken) != 1 || le.Broken["broken"] == nil {
		t.Fatalf("error %v, want a ListError naming broken", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "broken") || strings.Contains(msg, "\n") {
		t.Errorf("error %q", msg)
	}
	os.Remove(s.manifestPath("broken"))
	if _, err := s.List(); err != nil {
		t.Errorf("clean store: %v", err)
	}
}

func TestRemove(t *testing.T) {
	s := newTestStore(t)
	m := createModel(t, s, "gone", 1, 1)
	createModel(t, s, "stays", 2, 1)
	freed, err := s.Remove("gone")
	if err != nil {
		t.Fatal(err)
	}
	if s.Exists("gone") {
		t.Error("still there")
	}
	_, refs := m.Parts()
	if len(freed.Blobs) != len(refs) {
		t.Errorf("freed %d blobs, want %d", len(freed.Blobs), len(refs))
	}
	for _, ref := range refs {
		if s.HasBlob(ref.Blob) {
			t.Errorf("blob %s of the removed model is still there", ref.Blob)
		}
	}
	if err := s.Verify("stays"); err != nil {
		t.Error(err)
	}
	if _, err := s.Remove("gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove: %v", err)
	}
}

func TestLoadPartsNamesTheBrokenPart(t *testing.T) {
	s := newTestStore(t)
	m := createModel(t, s, "m", 1, 3)
	path := s.blobPath(m.Blocks[1].Blob)
	stored := mustRead(t, path)
	stored[len(stored)/2] ^= 0x80
	os.WriteFile(path, stored, 0o644)
	_, _, _, err := s.LoadParts(m)
	if err == nil || !strings.Contains(err.Error(), "store: model m: block 1 ("+m.Blocks[1].Blob+"): hash mismatch") {
		t.Fatalf("error %v", err)
	}
	if err := s.Verify("m"); err == nil {
		t.Error("Verify passed a corrupt model")
	}
	os.Remove(path)
	if _, _, _, err := s.LoadParts(m); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing blob: %v", err)
	}
}

func TestLoadPartsCopiesRepeatedBlocks(t *testing.T) {
	s := newTestStore(t)
	m := createModel(t, s, "m", 1, 1)
	m.Name = "twice"
	m.Blocks = []PartRef{m.Blocks[0], m.Blocks[0]}
	_, blocks, _, err := s.LoadParts(m)
	if err != nil {
		t.Fatal(err)
	}
	blocks[0]["norm1.weight"].Data[0] = 42
	if blocks[1]["norm1.weight"].Data[0] == 42 {
		t.Error("a repeated block shares memory with its twin")
	}
}

func TestFrankensteinManifestAddsNoWeightBytes(t *testing.T) {
	s := newTestStore(t)
	a := createModel(t, s, "a", 1, 4)
	b := createModel(t, s, "b", 2, 4)
	before, err := s.Size()
	if err != nil {
		t.Fatal(err)
	}
	frank := &Manifest{Name: "frank", Status: "complete", Variant: a.Variant, Config: a.Config, Data: a.Data,
		Stem: a.Stem, Head: a.Head, Blocks: []PartRef{a.Blocks[0], b.Blocks[1], a.Blocks[2], b.Blocks[3]},
		Recipe: json.RawMessage(`{"method":"random"}`)}
	if err := s.Create(frank); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Size()
	manifestSize := int64(len(mustRead(t, s.manifestPath("frank"))))
	if after-before != manifestSize {
		t.Errorf("store grew by %d bytes; the manifest has %d", after-before, manifestSize)
	}
	if len(blobFiles(t, s)) != 2*(4+2) {
		t.Errorf("%d blobs", len(blobFiles(t, s)))
	}
	_, blocks, _, err := s.LoadParts(frank)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameTensors(blocks[1], blockPart(201)); err != nil {
		t.Error(err)
	}
}
