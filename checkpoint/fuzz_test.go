package checkpoint

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// A manifest that is not JSON says where: the top-level field, the line and
// column, and the line's text (a NaN written into a normalisation by hand).
func TestManifestSyntaxErrorSaysWhere(t *testing.T) {
	data := []byte("{\n  \"format_version\": 1,\n  \"name\": \"m\",\n  \"normalization\": {\n    \"mean\": [0.5],\n    \"std\": [NaN]\n  }\n}\n")
	_, err := DecodeManifest(data)
	want := `store: manifest: invalid JSON in field normalization at line 6, column 13 ("\"std\": [NaN]"): invalid character 'N' looking for beginning of value`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	for _, c := range []struct{ data, field string }{
		{`{"format_version": 1, "config": {"dim": 1,}}`, "config"},
		{`{"format_version": 1, "training": {"a": [1, 2]}, "recipe": [}`, "recipe"},
		{`{"format_version": 1, "history": [{"x": {"y": 1}}], "name": x}`, "name"},
	} {
		_, err := DecodeManifest([]byte(c.data))
		if err == nil || !strings.Contains(err.Error(), "in field "+c.field+" at line 1") {
			t.Errorf("%s: %v, want it to name field %s", c.data, err, c.field)
		}
	}
}

func FuzzReadSafetensors(f *testing.F) {
	valid, _ := EncodeSafetensors(blockPart(1), map[string]string{"format": "pt"})
	f.Add(valid)
	small, _ := EncodeSafetensors(Tensors{"a": {Shape: []int{2}, Data: []float32{1, 2}}}, nil)
	f.Add(small)
	f.Add(rawSafetensors(`{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, []byte{0, 0x3c}))
	f.Add(rawSafetensors(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := ReadSafetensors(data)
		if err != nil {
			return
		}
		// Whatever was accepted must survive a write and a read unchanged.
		again, err := EncodeSafetensors(ts, meta)
		if err != nil {
			t.Fatalf("accepted tensors cannot be written: %v", err)
		}
		ts2, meta2, err := ReadSafetensors(again)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if err := sameTensors(ts, ts2); err != nil {
			t.Fatal(err)
		}
		if len(meta) != len(meta2) {
			t.Fatalf("metadata %v became %v", meta, meta2)
		}
		for k, v := range meta {
			if meta2[k] != v {
				t.Fatalf("metadata %q: %q became %q", k, v, meta2[k])
			}
		}
	})
}

func FuzzManifest(f *testing.F) {
	s := newTestStore(f)
	m := createModel(f, s, "seed", 1, 2)
	whole, _ := os.ReadFile(s.manifestPath(m.Name))
	f.Add(whole)
	f.Add([]byte(`{"format_version":1,"name":"x","stem":{"blob":"sha256:` + string(bytes.Repeat([]byte("a"), 64)) + `"}}`))
	f.Add([]byte(`{"format_version":2}`))
	f.Add([]byte(`null`))
	f.Add(bytes.Replace(whole, []byte(`"seed": 0`), []byte(`"seed": NaN`), 1))
	f.Add([]byte("{\"format_version\":1,\n\"normalization\": {\"std\": [NaN]}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeManifest(data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("a manifest error of more than one line: %q", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("decoded manifest does not validate: %v", err)
		}
		// What was accepted encodes and decodes to the same manifest.
		out, err := encodeManifest(m)
		if err != nil {
			t.Fatalf("accepted manifest cannot be encoded: %v", err)
		}
		m2, err := DecodeManifest(out)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, out)
		}
		a, _ := json.Marshal(m)
		b, _ := json.Marshal(m2)
		if !bytes.Equal(a, b) {
			t.Fatalf("manifest changed:\n%s\n%s", a, b)
		}
	})
}

func FuzzGetBlob(f *testing.F) {
	stored, _, _ := EncodeBlob(headPart(1))
	f.Add(stored, false)
	f.Add(stored, true)
	f.Add(zstdBytes(f, []byte("not safetensors")), false)
	f.Add([]byte("plain"), false)
	s := newTestStore(f)
	f.Fuzz(func(t *testing.T, stored []byte, misnamed bool) {
		digest := DigestOf(stored)
		if misnamed { // a blob whose content does not match its name
			digest = DigestOf(append([]byte{0}, stored...))
		}
		path := s.blobPath(digest)
		if err := os.WriteFile(path, stored, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		ts, err := s.GetBlob(digest)
		if misnamed && err == nil {
			t.Fatal("a blob that does not match its digest was accepted")
		}
		if err != nil {
			return
		}
		if len(ts) == 0 {
			t.Fatal("accepted a blob with no tensors")
		}
		// A valid blob's tensors store again without trouble.
		if _, err := EncodeSafetensors(ts, nil); err != nil {
			t.Fatal(err)
		}
	})
}
