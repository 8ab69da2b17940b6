package trainer

import (
	"math/rand/v2"
	"sync"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/gopanic"
)

// batchBuffers holds one training batch as the step reads it.
type batchBuffers struct {
	x      []float32
	labels []int32
	B      int
	err    error
}

// batchLoader reads an epoch's batches one step ahead on its own goroutine:
// while step k trains, batch k+1 is filled (for full-size folder data read
// from disk and decoded), in step order from one augmentation stream, so the
// batches are those a plain loop would fill. Two buffers circulate, so
// memory does not grow with the data set.
type batchLoader struct {
	ready chan *batchBuffers
	free  chan *batchBuffers
	done  chan struct{}
	wg    sync.WaitGroup
	p     gopanic.First
}

// loadBatches starts filling the batches perm[k*batch:(k+1)*batch] of split.
func loadBatches(split *dataset.Split, perm []int, batch int, norm dataset.Normalization, aug *dataset.Augment, rng *rand.Rand, bufs [2]*batchBuffers) *batchLoader {
	l := &batchLoader{ready: make(chan *batchBuffers, 1), free: make(chan *batchBuffers, 2), done: make(chan struct{})}
	l.free <- bufs[0]
	l.free <- bufs[1]
	size := split.ImageSize()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(l.ready)
		l.p.Run(func() {
			for lo := 0; lo < len(perm); lo += batch {
				var b *batchBuffers
				select {
				case b = <-l.free:
				case <-l.done:
					return
				}
				idx := perm[lo:min(lo+batch, len(perm))]
				b.B = len(idx)
				b.err = split.Fill(b.x[:b.B*size], b.labels[:b.B], idx, norm, aug, rng)
				select {
				case l.ready <- b:
				case <-l.done:
					return
				}
				if b.err != nil {
					return
				}
			}
		})
	}()
	return l
}

// next is the next batch, or nil when the epoch's batches are done. The
// caller gives it back with release before asking for the one after.
func (l *batchLoader) next() *batchBuffers {
	b, ok := <-l.ready
	if !ok {
		l.wg.Wait()
		l.p.Repanic()
		return nil
	}
	return b
}

func (l *batchLoader) release(b *batchBuffers) { l.free <- b }

// stop ends the loader early and waits for it.
func (l *batchLoader) stop() {
	close(l.done)
	l.wg.Wait()
}
