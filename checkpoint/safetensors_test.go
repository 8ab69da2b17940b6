package checkpoint

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"strings"
	"testing"
)

func TestSafetensorsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	special := Tensor{Shape: []int{6}, Data: []float32{
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)),
		math.SmallestNonzeroFloat32, math.MaxFloat32}}
	ts := Tensors{
		"scalar":        {Shape: []int{}, Data: []float32{3.5}},
		"empty":         {Shape: []int{0, 3}, Data: []float32{}},
		"special":       special,
		"conv.weight":   randomTensor(r, 4, 3, 2, 2),
		"blocks.0.bias": randomTensor(r, 7),
		"ünïcode name":  randomTensor(r, 2, 2),
	}
	meta := map[string]string{"format": "pt", "config": `{"dim":4,"note":"<&>"}`}
	data, err := EncodeSafetensors(ts, meta)
	if err != nil {
		t.Fatal(err)
	}
	headerLen := binary.LittleEndian.Uint64(data[:8])
	if (8+headerLen)%8 != 0 {
		t.Errorf("data starts at %d, not 8-byte aligned", 8+headerLen)
	}
	got, gotMeta, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameTensors(ts, got); err != nil {
		t.Fatal(err)
	}
	if len(gotMeta) != len(meta) || gotMeta["config"] != meta["config"] || gotMeta["format"] != "pt" {
		t.Errorf("metadata %v, want %v", gotMeta, meta)
	}
}

func TestSafetensorsDeterministicLayout(t *testing.T) {
	one := Tensors{"b": {Shape: []int{1}, Data: []float32{2}}, "a": {Shape: []int{2}, Data: []float32{1, -1}}}
	two := Tensors{}
	two["a"] = one["a"]
	two["b"] = one["b"]
	x, err := EncodeSafetensors(one, map[string]string{"k": "v", "a": "z"})
	if err != nil {
		t.Fatal(err)
	}
	y, _ := EncodeSafetensors(two, map[string]string{"a": "z", "k": "v"})
	if !bytes.Equal(x, y) {
		t.Fatal("same tensors gave different bytes")
	}
	// The exact layout: metadata first, then tensors by name, contiguous.
	header := `{"__metadata__":{"a":"z","k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`
	for (8+len(header))%8 != 0 {
		header += " "
	}
	want := rawSafetensors(header, []byte{0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf, 0, 0, 0, 0x40})
	if !bytes.Equal(x, want) {
		t.Fatalf("layout:\n got %q\nwant %q", x, want)
	}
}

func TestReadSafetensorsConvertsOtherFloatTypes(t *testing.T) {
	var data []byte
	// F16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), +Inf
	for _, h := range []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00} {
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	// BF16: 1.0, -3.0
	for _, h := range []uint16{0x3f80, 0xc040} {
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	// F64: 0.1
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(0.1))
	header := `{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},` +
		`"b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]},` +
		`"d":{"dtype":"F64","shape":[1,1],"data_offsets":[14,22]}}`
	ts, _, err := ReadSafetensors(rawSafetensors(header, data))
	if err != nil {
		t.Fatal(err)
	}
	want := Tensors{
		"h": {Shape: []int{5}, Data: []float32{1, -2, 65504, float32(math.Ldexp(1, -24)), float32(math.Inf(1))}},
		"b": {Shape: []int{2}, Data: []float32{1, -3}},
		"d": {Shape: []int{1, 1}, Data: []float32{float32(0.1)}},
	}
	if err := sameTensors(want, ts); err != nil {
		t.Fatal(err)
	}
}

func TestHalfToFloat32AllValues(t *testing.T) {
	// Every finite half is exactly m * 2^(e-25) with 11-bit m: compare with
	// that formula for all 65536 bit patterns.
	for h := 0; h < 1<<16; h++ {
		got := halfToFloat32(uint16(h))
		exp := (h >> 10) & 0x1f
		mant := h & 0x3ff
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		var want float64
		switch {
		case exp == 0x1f && mant == 0:
			want = math.Inf(int(sign))
		case exp == 0x1f:
			if !math.IsNaN(float64(got)) {
				t.Fatalf("half %#04x: got %v, want NaN", h, got)
			}
			continue
		case exp == 0:
			want = sign * math.Ldexp(float64(mant), -24)
		default:
			want = sign * math.Ldexp(float64(mant|0x400), exp-25)
		}
		if float64(got) != want || math.Signbit(float64(got)) != (sign < 0) {
			t.Fatalf("half %#04x: got %v, want %v", h, got, want)
		}
	}
}

func TestReadSafetensorsRejectsBadInput(t *testing.T) {
	f32 := func(n int) []byte { return make([]byte, 4*n) }
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 200<<20)
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"empty file", "too short", nil},
		{"truncated length", "too short", []byte{1, 2, 3}},
		{"header beyond file", "past the end", rawSafetensors(`{}`, nil)[:9]},
		{"header length huge", "exceeds", hugeLen},
		{"header length max uint64", "exceeds", []byte{255, 255, 255, 255, 255, 255, 255, 255, '{', '}'}},
		{"truncated header JSON", "not valid JSON", rawSafetensors(`{"a":{"dtype":"F32","sha`, nil)},
		{"invalid JSON", "not valid JSON", rawSafetensors(`{"a":}`, nil)},
		{"not an object", "not a JSON object", rawSafetensors(`[1,2]`, nil)},
		{"trailing data", "trailing", rawSafetensors(`{} {}`, nil)},
		{"trailing garbage", "trailing", rawSafetensors(`{}x`, nil)},
		{"invalid UTF-8", "UTF-8", rawSafetensors("{\"\xff\":1}", nil)},
		{"duplicate name", "twice", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(2))},
		{"bad dtype", `"I64"`, rawSafetensors(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, f32(2))},
		{"unknown dtype", `"Q4"`, rawSafetensors(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}`, f32(1))},
		{"no dtype", "no dtype", rawSafetensors(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, f32(1))},
		{"no shape", "no shape", rawSafetensors(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, f32(1))},
		{"entry not object", "invalid entry", rawSafetensors(`{"a":5}`, nil)},
		{"empty name", "empty name", rawSafetensors(`{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1))},
		{"negative dim", "negative dimension", rawSafetensors(`{"a":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}`, f32(4))},
		{"fractional dim", "invalid entry", rawSafetensors(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f32(1))},
		{"wrong shape product", "does not match", rawSafetensors(`{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}`, f32(5))},
		{"overflowing shape", "does not match", rawSafetensors(`{"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904,4],"data_offsets":[0,4]}}`, f32(1))},
		{"offsets not a pair", "data_offsets", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, f32(1))},
		{"reversed offsets", "invalid data_offsets", rawSafetensors(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, f32(1))},
		{"negative offsets", "invalid data_offsets", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, nil)},
		{"offsets out of range", "run past", rawSafetensors(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32(2))},
		{"overlapping", "overlap", rawSafetensors(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32(3))},
		{"gap", "gap", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, f32(3))},
		{"uncovered tail", "not covered", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(2))},
		{"metadata not strings", "__metadata__", rawSafetensors(`{"__metadata__":{"a":1}}`, nil)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, md, err := ReadSafetensors(c.data)
			if err == nil {
				t.Fatalf("accepted: %v %v", ts, md)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "checkpoint: ") || strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) {
				t.Errorf("error %q: want one line starting %q and mentioning %q", msg, "checkpoint: ", c.want)
			}
		})
	}
}

func TestReadSafetensorsAcceptsEdgeCases(t *testing.T) {
	for name, data := range map[string][]byte{
		"no tensors":           rawSafetensors(`{}`, nil),
		"padding":              rawSafetensors(`{}      `, nil),
		"null metadata":        rawSafetensors(`{"__metadata__":null}`, nil),
		"huge dims, zero size": rawSafetensors(`{"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904,0],"data_offsets":[0,0]}}`, nil),
		"unsorted offsets":     rawSafetensors(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)),
		"zero-size in middle":  rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
	} {
		ts, meta, err := ReadSafetensors(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// What is read can be written again.
		if _, err := EncodeSafetensors(ts, meta); err != nil {
			t.Errorf("%s: rewrite: %v", name, err)
		}
	}
}

func TestWriteSafetensorsRejectsInconsistentTensors(t *testing.T) {
	for name, ts := range map[string]Tensors{
		"shape product": {"a": {Shape: []int{2, 2}, Data: make([]float32, 3)}},
		"negative dim":  {"a": {Shape: []int{-1, -2}, Data: make([]float32, 2)}},
		"empty name":    {"": {Shape: []int{1}, Data: make([]float32, 1)}},
		"reserved name": {"__metadata__": {Shape: []int{1}, Data: make([]float32, 1)}},
	} {
		var buf bytes.Buffer
		err := WriteSafetensors(&buf, ts, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "checkpoint: ") {
			t.Errorf("%s: error %v", name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", name, buf.Len())
		}
	}
}
