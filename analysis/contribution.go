package analysis

// Contribution is what each block adds where it runs: the change in
// accuracy and in loss when the block is replaced by the identity (the later
// blocks keeping their slots), so a block that computes the identity
// contributes exactly zero.
type Contribution struct {
	// Accuracy[b][s] is the mean over the random orders running block b in
	// slot s of accuracy(order) - accuracy(order without it): positive when
	// the block helps there.
	Accuracy Grid `json:"accuracy"`
	// Loss[b][s] is the mean of loss(order without it) - loss(order), in nats
	// per image: positive when the block helps there.
	Loss Grid `json:"loss"`
	// SequentialAccuracy[s] and SequentialLoss[s] are the same for the block
	// at slot s of the sequential order (block s).
	SequentialAccuracy Vector `json:"sequential_accuracy"`
	SequentialLoss     Vector `json:"sequential_loss"`
	// SlotAccuracy[s] and SlotLoss[s] average the random orders per slot.
	SlotAccuracy Vector `json:"slot_accuracy"`
	SlotLoss     Vector `json:"slot_loss"`
	// OrderAccuracy is the mean accuracy of the random orders, unskipped.
	OrderAccuracy float64 `json:"order_accuracy"`
}

func contribution(sw *sweep) Contribution {
	L, n := sw.depth, float64(sw.n)
	c := Contribution{Accuracy: NewGrid(labels("block ", L), labels("slot ", L)),
		Loss: NewGrid(labels("block ", L), labels("slot ", L)), SequentialAccuracy: make(Vector, L),
		SequentialLoss: make(Vector, L), SlotAccuracy: make(Vector, L), SlotLoss: make(Vector, L)}
	accSum, lossSum, count := floatMatrix(L, L), floatMatrix(L, L), intMatrix(L, L)
	for p, plan := range sw.plans {
		fullAcc, fullLoss := float64(sw.lensHit[p][L-1])/n, sw.lensLoss[p][L-1]/n
		for s, b := range plan {
			dAcc := fullAcc - float64(sw.skipHit[p][s])/n
			dLoss := sw.skipLoss[p][s]/n - fullLoss
			if p == sw.random { // the sequential order
				c.SequentialAccuracy[s], c.SequentialLoss[s] = dAcc, dLoss
				continue
			}
			accSum[b][s] += dAcc
			lossSum[b][s] += dLoss
			count[b][s]++
			c.SlotAccuracy[s] += dAcc / float64(sw.random)
			c.SlotLoss[s] += dLoss / float64(sw.random)
		}
		if p < sw.random {
			c.OrderAccuracy += fullAcc / float64(sw.random)
		}
	}
	fillMeans(c.Accuracy, accSum, count)
	fillMeans(c.Loss, lossSum, count)
	return c
}
