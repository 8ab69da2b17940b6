package gopanic

import (
	"sync"
	"testing"
)

func TestFirstPanicReachesTheWaiter(t *testing.T) {
	var p First
	var wg sync.WaitGroup
	ran := make([]bool, 8)
	for i := range ran {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Run(func() {
				ran[i] = true
				if i%3 == 1 {
					panic(i)
				}
			})
		}()
	}
	wg.Wait()
	got := func() (r any) {
		defer func() { r = recover() }()
		p.Repanic()
		return nil
	}()
	if v, ok := got.(int); !ok || v%3 != 1 {
		t.Fatalf("recovered %v, want the value of one of the panicking goroutines", got)
	}
	for i, r := range ran {
		if !r {
			t.Errorf("goroutine %d did not run", i)
		}
	}
	var calm First
	calm.Run(func() {})
	calm.Repanic() // no panic kept: returns
}
