package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"unicode/utf8"
)

// MaxSafetensorsHeader bounds the JSON header of a safetensors file, as the
// reference implementation does, so a hostile length cannot make us
// allocate gigabytes.
const MaxSafetensorsHeader = 100 << 20

// metadataKey is the reserved header entry holding string metadata.
const metadataKey = "__metadata__"

// tensorHeader is one tensor's entry in the safetensors JSON header.
type tensorHeader struct {
	Dtype       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// WriteSafetensors writes ts and metadata in the safetensors format. The
// output is deterministic: tensors in sorted name order with contiguous
// offsets, metadata keys sorted, the header padded with spaces to a multiple
// of 8 bytes. All tensors are written as F32, little-endian.
func WriteSafetensors(w io.Writer, ts Tensors, metadata map[string]string) error {
	header, err := safetensorsHeader(ts, metadata)
	if err != nil {
		return fmt.Errorf("checkpoint: safetensors: %v", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(header)))
	bw.Write(lenBuf[:])
	bw.Write(header)
	var word [4]byte
	for _, name := range sortedNames(ts) {
		for _, v := range ts[name].Data {
			binary.LittleEndian.PutUint32(word[:], math.Float32bits(v))
			bw.Write(word[:])
		}
	}
	// bufio keeps the first write error and reports it here.
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("checkpoint: safetensors: write: %v", err)
	}
	return nil
}

// EncodeSafetensors is WriteSafetensors into memory.
func EncodeSafetensors(ts Tensors, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, metadata); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sortedNames(ts Tensors) []string { return ts.Names() }

// Names are the tensors' names, sorted.
func (ts Tensors) Names() []string {
	names := make([]string, 0, len(ts))
	for name := range ts {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// safetensorsHeader builds the padded JSON header by hand, so the byte
// layout (metadata first, then tensors by name) never depends on map order.
func safetensorsHeader(ts Tensors, metadata map[string]string) ([]byte, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("metadata %q is not valid UTF-8", k)
			}
		}
		md, err := json.Marshal(metadata) // sorts keys
		if err != nil {
			return nil, fmt.Errorf("metadata: %v", err)
		}
		h.WriteString(`"` + metadataKey + `":`)
		h.Write(md)
	}
	var offset int64
	for i, name := range sortedNames(ts) {
		t := ts[name]
		if name == "" || name == metadataKey || !utf8.ValidString(name) {
			return nil, fmt.Errorf("invalid tensor name %q", name)
		}
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		shape := make([]int64, len(t.Shape))
		for j, d := range t.Shape {
			shape[j] = int64(d)
		}
		size := int64(len(t.Data)) * 4
		entry, err := json.Marshal(tensorHeader{Dtype: "F32", Shape: shape, DataOffsets: []int64{offset, offset + size}})
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		offset += size
		key, _ := json.Marshal(name)
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		h.Write(key)
		h.WriteByte(':')
		h.Write(entry)
	}
	h.WriteByte('}')
	// Pad so the data starts 8-byte aligned (8 bytes of length + header).
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxSafetensorsHeader {
		return nil, fmt.Errorf("header of %d bytes exceeds the %d-byte limit", h.Len(), MaxSafetensorsHeader)
	}
	return h.Bytes(), nil
}

// ReadSafetensors decodes a whole safetensors file. It validates everything
// the format promises: the header length, UTF-8 JSON without duplicate or
// unknown top-level structure, dtypes, shapes, and offsets that tile the data
// area exactly (no overlaps, no gaps, nothing out of range, nothing after).
// F32 is read as is; F16, BF16 and F64 are converted to float32; other
// dtypes are refused. It never panics, whatever the input.
func ReadSafetensors(data []byte) (Tensors, map[string]string, error) {
	ts, md, err := decodeSafetensors(data)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: safetensors: %v", err)
	}
	return ts, md, nil
}

// ReadSafetensorsFile reads and decodes the safetensors file at path.
func ReadSafetensorsFile(path string) (Tensors, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %v", err)
	}
	ts, md, err := decodeSafetensors(data)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %s: %v", path, err)
	}
	return ts, md, nil
}

// entry is a parsed header entry, kept for the offset checks.
type entry struct {
	name       string
	dtype      dtype
	shape      []int
	begin, end int64
}

func decodeSafetensors(data []byte) (Tensors, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("file of %d bytes is too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > MaxSafetensorsHeader {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d-byte limit", n, MaxSafetensorsHeader)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("header length %d runs past the end of the %d-byte file", n, len(data))
	}
	header := data[8 : 8+n]
	body := data[8+n:]
	if !utf8.Valid(header) {
		return nil, nil, errors.New("header is not valid UTF-8")
	}
	entries, metadata, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}
	if err := checkTiling(entries, int64(len(body))); err != nil {
		return nil, nil, err
	}
	ts := make(Tensors, len(entries))
	for _, e := range entries {
		ts[e.name] = Tensor{Shape: e.shape, Data: e.dtype.decode(body[e.begin:e.end])}
	}
	return ts, metadata, nil
}

// parseHeader walks the top-level JSON object token by token, because
// decoding into a map would silently keep only the last of duplicate names.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("header is not valid JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errors.New("header is not a JSON object")
	}
	var entries []entry
	var metadata map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("header is not valid JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, errors.New("header is not valid JSON: object key is not a string")
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("header names %q twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("header is not valid JSON at %q: %v", name, err)
		}
		if name == metadataKey {
			if err := json.Unmarshal(raw, &metadata); err != nil {
				return nil, nil, fmt.Errorf("%s must map strings to strings: %v", metadataKey, err)
			}
			continue
		}
		e, err := parseEntry(name, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("header is not valid JSON: %v", err)
	}
	// Only padding (whitespace) may follow the object.
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, nil, fmt.Errorf("header has trailing bytes after the JSON object: %v", err)
		}
		return nil, nil, fmt.Errorf("header has trailing data after the JSON object: %v", tok)
	}
	return entries, metadata, nil
}

func parseEntry(name string, raw json.RawMessage) (entry, error) {
	if name == "" {
		return entry{}, errors.New("header has a tensor with an empty name")
	}
	var h tensorHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return entry{}, fmt.Errorf("tensor %q: invalid entry: %v", name, err)
	}
	if h.Dtype == "" {
		return entry{}, fmt.Errorf("tensor %q: no dtype", name)
	}
	dt, err := parseDtype(h.Dtype)
	if err != nil {
		return entry{}, fmt.Errorf("tensor %q: %v", name, err)
	}
	if h.Shape == nil {
		return entry{}, fmt.Errorf("tensor %q: no shape", name)
	}
	if len(h.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("tensor %q: data_offsets must be [begin, end], got %v", name, h.DataOffsets)
	}
	begin, end := h.DataOffsets[0], h.DataOffsets[1]
	if begin < 0 || end < begin {
		return entry{}, fmt.Errorf("tensor %q: invalid data_offsets [%d, %d]", name, begin, end)
	}
	// Count elements without overflow: stop as soon as the count exceeds
	// what the byte range can hold.
	shape := make([]int, len(h.Shape))
	hasZero := false
	for i, d := range h.Shape {
		if d < 0 {
			return entry{}, fmt.Errorf("tensor %q: negative dimension in shape %v", name, h.Shape)
		}
		if int64(int(d)) != d {
			return entry{}, fmt.Errorf("tensor %q: dimension %d too large", name, d)
		}
		shape[i] = int(d)
		hasZero = hasZero || d == 0
	}
	count := int64(1)
	if hasZero {
		count = 0
	} else {
		limit := (end - begin) / int64(dt.size)
		for _, d := range h.Shape {
			if count > limit/d {
				count = -1
				break
			}
			count *= d
		}
	}
	if count < 0 || count*int64(dt.size) != end-begin {
		return entry{}, fmt.Errorf("tensor %q: shape %v of %s does not match its %d data bytes", name, h.Shape, dt.name, end-begin)
	}
	return entry{name: name, dtype: dt, shape: shape, begin: begin, end: end}, nil
}

// checkTiling requires the tensors to cover the data area exactly, as the
// reference implementation does: no overlaps, no gaps, nothing beyond it.
func checkTiling(entries []entry, dataLen int64) error {
	sorted := append([]entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].begin != sorted[j].begin {
			return sorted[i].begin < sorted[j].begin
		}
		return sorted[i].end < sorted[j].end
	})
	var at int64
	prev := ""
	for _, e := range sorted {
		if e.end > dataLen {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] run past the %d-byte data area", e.name, e.begin, e.end, dataLen)
		}
		if e.begin < at {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q", e.name, e.begin, e.end, prev)
		}
		if e.begin > at {
			return fmt.Errorf("tensor %q: gap of %d bytes before its data_offsets [%d, %d]", e.name, e.begin-at, e.begin, e.end)
		}
		at = e.end
		prev = e.name
	}
	if at != dataLen {
		return fmt.Errorf("%d bytes after the last tensor are not covered by any tensor", dataLen-at)
	}
	return nil
}
