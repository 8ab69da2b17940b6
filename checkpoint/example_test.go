package checkpoint_test

import (
	"bytes"
	"fmt"

	"github.com/frankenvit/frankenvit/checkpoint"
)

// Write two tensors to a safetensors buffer and read them back.
func Example() {
	ts := checkpoint.Tensors{
		"head.weight": {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		"head.bias":   {Shape: []int{2}, Data: []float32{0.5, -0.5}},
	}
	var buf bytes.Buffer
	if err := checkpoint.WriteSafetensors(&buf, ts, map[string]string{"format": "pt"}); err != nil {
		panic(err)
	}
	back, meta, err := checkpoint.ReadSafetensors(buf.Bytes())
	if err != nil {
		panic(err)
	}
	fmt.Println(buf.Len(), "bytes, format", meta["format"])
	fmt.Println(back["head.weight"].Shape, back["head.weight"].Data)
	fmt.Println(back["head.bias"].Shape, back["head.bias"].Data)
	// Output:
	// 200 bytes, format pt
	// [2 3] [1 2 3 4 5 6]
	// [2] [0.5 -0.5]
}
