package analysis

import (
	"reflect"
	"testing"
)

func TestBalancedOrders(t *testing.T) {
	for _, depth := range []int{1, 3, 6} {
		orders := BalancedOrders(depth, 2*depth, 5)
		if len(orders) != 2*depth {
			t.Fatalf("depth %d: %d orders, want %d", depth, len(orders), 2*depth)
		}
		for _, o := range orders {
			seen := make([]bool, depth)
			for _, b := range o {
				if b < 0 || b >= depth || seen[b] {
					t.Fatalf("depth %d: %v is not a permutation", depth, o)
				}
				seen[b] = true
			}
		}
		for b, row := range visits(orders, depth) {
			for s, v := range row {
				if v != 2 {
					t.Errorf("depth %d: block %d visits slot %d %d times, want 2", depth, b, s, v)
				}
			}
		}
	}
	// Fewer orders than blocks: no cell is visited twice.
	for _, row := range visits(BalancedOrders(6, 4, 1), 6) {
		for _, v := range row {
			if v > 1 {
				t.Fatalf("4 orders of 6 blocks visit a cell %d times", v)
			}
		}
	}
	if !reflect.DeepEqual(BalancedOrders(6, 12, 3), BalancedOrders(6, 12, 3)) {
		t.Error("same seed, different orders")
	}
	if reflect.DeepEqual(BalancedOrders(6, 12, 3), BalancedOrders(6, 12, 4)) {
		t.Error("different seeds, same orders")
	}
}
