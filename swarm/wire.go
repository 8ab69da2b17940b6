package swarm

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nats-io/nats.go"
)

// Message headers. Activations and images travel as little-endian float32
// in the payload; everything else is a header.
const (
	hdrBatch  = "Fv-Batch"  // the batch id, echoed in answers
	hdrStep   = "Fv-Step"   // blocks run so far: the slot the block runs at
	hdrRan    = "Fv-Ran"    // the blocks already run, "3,0,5"
	hdrRows   = "Fv-Rows"   // images in the batch
	hdrPing   = "Fv-Ping"   // "1": answer at once without computing
	hdrWorker = "Fv-Worker" // in answers: the worker that answered
	hdrError  = "Fv-Error"  // in answers: why the worker did not compute
	hdrStatus = "Status"    // set by the NATS server: "503" when nobody serves the subject
)

// DefaultPrefix begins every subject of a swarm; swarms with different
// prefixes share a NATS server without seeing each other.
const DefaultPrefix = "frankenvit"

// Subjects names the subjects of one swarm.
type Subjects struct{ Prefix string }

func (s Subjects) prefix() string {
	if s.Prefix == "" {
		return DefaultPrefix
	}
	return s.Prefix
}

// Block is the subject of a model's block.
func (s Subjects) Block(model string, index int) string {
	return fmt.Sprintf("%s.block.%s.%d", s.prefix(), model, index)
}

// Stem is the subject that embeds images for a model.
func (s Subjects) Stem(model string) string { return s.prefix() + ".stem." + model }

// Head is the subject that classifies a model's final activations.
func (s Subjects) Head(model string) string { return s.prefix() + ".head." + model }

// Control is a worker's own subject for commands ("slow 20ms", "quit").
func (s Subjects) Control(worker string) string { return s.prefix() + ".control." + worker }

// CheckToken refuses a model name or worker id that cannot be one token of a
// NATS subject.
func CheckToken(what, s string) error {
	if s == "" || strings.ContainsAny(s, ". *>\t\r\n") {
		return fmt.Errorf("%s %q cannot name a NATS subject: it must be non-empty without dots, spaces, '*' or '>'", what, s)
	}
	return nil
}

// littleEndian: the machine's float32 bytes are the wire's, so a copy
// encodes (the loop is for the others).
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// floatBytes is xs's memory as bytes.
func floatBytes(xs []float32) []byte {
	if len(xs) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&xs[0])), 4*len(xs))
}

// encodeFloats writes xs as little-endian float32.
func encodeFloats(xs []float32) []byte {
	b := make([]byte, 4*len(xs))
	if littleEndian {
		copy(b, floatBytes(xs))
		return b
	}
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// decodeFloats reads want float32 values from b into dst (grown as needed).
func decodeFloats(dst []float32, b []byte, want int) ([]float32, error) {
	if len(b) != 4*want {
		return nil, fmt.Errorf("payload of %d bytes, want %d float32 values (%d bytes)", len(b), want, 4*want)
	}
	if cap(dst) < want {
		dst = make([]float32, want)
	}
	dst = dst[:want]
	if littleEndian {
		copy(floatBytes(dst), b)
		return dst, nil
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return dst, nil
}

// formatBlocks writes block indices as "3,0,5".
func formatBlocks(blocks []int) string {
	parts := make([]string, len(blocks))
	for i, b := range blocks {
		parts[i] = strconv.Itoa(b)
	}
	return strings.Join(parts, ",")
}

// parseBlocks reads formatBlocks's output.
func parseBlocks(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		k, err := strconv.Atoi(f)
		if err != nil || k < 0 {
			return nil, fmt.Errorf("bad block list %q", s)
		}
		out = append(out, k)
	}
	return out, nil
}

// headerInt reads a non-negative integer header.
func headerInt(h nats.Header, key string) (int, error) {
	v := h.Get(key)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("header %s: %q is not a non-negative integer", key, v)
	}
	return n, nil
}
