package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
)

// dtype is a safetensors element type that can be read as float32.
type dtype struct {
	name   string
	size   int
	decode func(b []byte) []float32
}

var readableDtypes = map[string]dtype{
	"F32":  {"F32", 4, decodeF32},
	"F16":  {"F16", 2, decodeF16},
	"BF16": {"BF16", 2, decodeBF16},
	"F64":  {"F64", 8, decodeF64},
}

func parseDtype(s string) (dtype, error) {
	if dt, ok := readableDtypes[s]; ok {
		return dt, nil
	}
	return dtype{}, fmt.Errorf("dtype %q is not supported: weights must be F32 (F16, BF16 and F64 are converted)", s)
}

func decodeF32(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func decodeF64(b []byte) []float32 {
	out := make([]float32, len(b)/8)
	for i := range out {
		out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
	}
	return out
}

// decodeBF16: bfloat16 is the top half of a float32.
func decodeBF16(b []byte) []float32 {
	out := make([]float32, len(b)/2)
	for i := range out {
		out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
	}
	return out
}

func decodeF16(b []byte) []float32 {
	out := make([]float32, len(b)/2)
	for i := range out {
		out[i] = halfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

// halfToFloat32 widens an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	var bits uint32
	switch {
	case exp == 0x1f: // infinity or NaN, payload kept
		bits = sign | 0x7f800000 | mant<<13
	case exp == 0 && mant == 0:
		bits = sign
	case exp == 0: // subnormal: normalise the mantissa
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		bits = sign | e<<23 | (mant&0x3ff)<<13
	default:
		bits = sign | (exp+127-15)<<23 | mant<<13
	}
	return math.Float32frombits(bits)
}
