package checkpoint

import (
	"fmt"
	"math"
)

// Tensor is one float32 tensor in PyTorch layout: row-major, Shape outermost
// first. A scalar has an empty Shape and one element.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Tensors maps tensor names to tensors, e.g. one model part.
type Tensors map[string]Tensor

// NumElements is the product of the shape, or -1 when a dimension is
// negative or the product overflows. A zero dimension makes it 0, however
// large the others are.
func (t Tensor) NumElements() int {
	for _, d := range t.Shape {
		if d < 0 {
			return -1
		}
		if d == 0 {
			return 0
		}
	}
	n := 1
	for _, d := range t.Shape {
		if n > math.MaxInt/d {
			return -1
		}
		n *= d
	}
	return n
}

// check reports a shape that does not match the data.
func (t Tensor) check() error {
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", t.Shape)
		}
	}
	n := t.NumElements()
	if n < 0 {
		return fmt.Errorf("shape %v has too many elements", t.Shape)
	}
	if n != len(t.Data) {
		return fmt.Errorf("shape %v needs %d values, data has %d", t.Shape, n, len(t.Data))
	}
	return nil
}

// Clone returns a deep copy, so callers can modify one without the other.
func (t Tensor) Clone() Tensor {
	return Tensor{Shape: append([]int{}, t.Shape...), Data: append([]float32{}, t.Data...)}
}

// Clone returns a deep copy of every tensor.
func (ts Tensors) Clone() Tensors {
	out := make(Tensors, len(ts))
	for name, t := range ts {
		out[name] = t.Clone()
	}
	return out
}
