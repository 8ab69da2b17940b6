package trainer

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/vit"
)

// Options are the training hyper-parameters (the train flags).
type Options struct {
	Epochs       int     `json:"epochs"`
	Batch        int     `json:"batch"`
	LR           float64 `json:"lr"`
	WeightDecay  float64 `json:"weight_decay"`
	WarmupFrac   float64 `json:"warmup_frac"`     // fraction of all steps spent warming up
	FinalLRFrac  float64 `json:"final_lr_frac"`   // cosine decays to this fraction of LR
	ClipNorm     float64 `json:"clip_norm"`       // global gradient norm bound; 0 = off
	Seed         uint64  `json:"seed"`            // data order, block orders, augmentation
	ShufflePer   string  `json:"shuffle_per"`     // "batch" (the paper) or "sample"
	LayerDropP   float64 `json:"layerdrop_p"`     // layerdrop variant
	PosWeight    float64 `json:"pos_loss_weight"` // shuffle-predict slot loss weight
	AugmentShift int     `json:"augment_shift"`   // random shift in pixels; 0 = off
	// TrainOnly, when "head", updates only the classifier (head.weight and
	// head.bias) and freezes everything else, the final LayerNorm included:
	// a linear probe on the model's features. "" trains every parameter.
	TrainOnly string `json:"train_only,omitempty"`
	// Decay is the learning-rate decay after warm-up: "cosine" (the
	// default, also for "") or "linear".
	Decay string `json:"decay,omitempty"`
	// MicroBatch, when positive and below Batch, accumulates the gradient
	// of each batch over chunks of MicroBatch samples (same update, less
	// memory).
	MicroBatch int `json:"micro_batch,omitempty"`
	// Augment is the augmentation of full-size folder data (see
	// dataset.OpenFolder): "timm" draws timm's RandomResizedCrop and
	// horizontal flips, "none" none; "" is timm for full-size folder data.
	// In-memory data sets use AugmentShift.
	Augment string `json:"augment,omitempty"`
}

// Learning-rate decays and augmentations of Options.
const (
	DecayCosine = "cosine"
	DecayLinear = "linear"
	AugmentNone = "none"
	AugmentTimm = "timm"
)

// PaperPreset is the paper's fine-tuning recipe (layershuffle-brief.md):
// AdamW, lr 1e-4, linear decay to 0, no warm-up, weight decay 0, batch 128,
// no augmentation. It changes only those fields of o.
func PaperPreset(o Options) Options {
	o.LR, o.Decay, o.FinalLRFrac, o.WarmupFrac, o.WeightDecay, o.Batch, o.Augment = 1e-4, DecayLinear, 0, 0, 0, 128, AugmentNone
	return o
}

// TrainOnlyHead is the Options.TrainOnly value that trains the classifier alone.
const TrainOnlyHead = "head"

// IsHeadParam reports whether p is one of the classifier's own tensors,
// head.weight or head.bias (not the final LayerNorm norm.*).
func IsHeadParam(p *vit.Param) bool { return p.Name == "head.weight" || p.Name == "head.bias" }

// DefaultOptions are the settings the CLI starts from.
func DefaultOptions() Options {
	return Options{Epochs: 10, Batch: 64, LR: 1e-3, WeightDecay: 0.05, WarmupFrac: 0.05, FinalLRFrac: 0.01,
		ClipNorm: 1, Seed: 1, ShufflePer: "batch", LayerDropP: 0.2, PosWeight: 1}
}

// Validate reports every bad option at once.
func (o Options) Validate(v vit.Variant) error {
	var errs []error
	if o.Epochs <= 0 {
		errs = append(errs, fmt.Errorf("--epochs must be positive, got %d", o.Epochs))
	}
	if o.Batch <= 0 {
		errs = append(errs, fmt.Errorf("--batch must be positive, got %d", o.Batch))
	}
	if !(o.LR > 0) || math.IsInf(o.LR, 0) {
		errs = append(errs, fmt.Errorf("--lr must be a positive number, got %g", o.LR))
	}
	if !nonNegative(o.WeightDecay) {
		errs = append(errs, fmt.Errorf("--wd must be a number >= 0, got %g", o.WeightDecay))
	}
	if !nonNegative(o.ClipNorm) {
		errs = append(errs, fmt.Errorf("--clip must be a number >= 0 (0: off), got %g", o.ClipNorm))
	}
	if !nonNegative(o.FinalLRFrac) || o.FinalLRFrac > 1 {
		errs = append(errs, fmt.Errorf("--final-lr must be in [0, 1] (a fraction of --lr), got %g", o.FinalLRFrac))
	}
	if !nonNegative(o.PosWeight) {
		errs = append(errs, fmt.Errorf("--pos-weight must be a number >= 0, got %g", o.PosWeight))
	}
	if o.ShufflePer != "batch" && o.ShufflePer != "sample" {
		errs = append(errs, fmt.Errorf("--shuffle-per must be batch or sample, got %q", o.ShufflePer))
	}
	if o.ShufflePer == "sample" && !v.Shuffled() {
		errs = append(errs, fmt.Errorf("--shuffle-per sample needs a shuffle variant, not %s", v))
	}
	if o.LayerDropP < 0 || o.LayerDropP >= 1 || math.IsNaN(o.LayerDropP) {
		errs = append(errs, fmt.Errorf("--layerdrop-p must be in [0, 1), got %g", o.LayerDropP))
	}
	if o.TrainOnly != "" && o.TrainOnly != TrainOnlyHead {
		errs = append(errs, fmt.Errorf("--train-only must be head (or empty: train everything), got %q", o.TrainOnly))
	}
	if o.Decay != "" && o.Decay != DecayCosine && o.Decay != DecayLinear {
		errs = append(errs, fmt.Errorf("--decay must be cosine or linear, got %q", o.Decay))
	}
	if o.MicroBatch < 0 {
		errs = append(errs, fmt.Errorf("--micro-batch must be >= 0, got %d", o.MicroBatch))
	}
	if o.Augment != "" && o.Augment != AugmentNone && o.Augment != AugmentTimm {
		errs = append(errs, fmt.Errorf("--augment must be timm or none, got %q", o.Augment))
	}
	if o.WarmupFrac < 0 || o.WarmupFrac > 1 || math.IsNaN(o.WarmupFrac) {
		errs = append(errs, fmt.Errorf("--warmup must be in [0, 1], got %g", o.WarmupFrac))
	}
	if o.AugmentShift < 0 {
		errs = append(errs, fmt.Errorf("--augment-shift must be >= 0, got %d", o.AugmentShift))
	}
	return errors.Join(errs...)
}

// nonNegative is true for a finite x >= 0 (false for NaN and ±Inf).
func nonNegative(x float64) bool { return x >= 0 && !math.IsInf(x, 1) }

// EpochRecord is one line of the training history.
type EpochRecord struct {
	Epoch        int     `json:"epoch"`
	TrainLoss    float64 `json:"train_loss"`
	TrainAcc     float64 `json:"train_accuracy"`
	SlotLoss     float64 `json:"slot_loss,omitempty"`
	ValLoss      float64 `json:"val_loss"`
	ValAcc       float64 `json:"val_accuracy"`
	LR           float64 `json:"lr"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_second"`
	Best         bool    `json:"best"`
}

// Line is the one-line summary printed after each epoch.
func (r EpochRecord) Line() string {
	mark := ""
	if r.Best {
		mark = " *best"
	}
	return fmt.Sprintf("epoch %d: train loss %.4f acc %.2f%% | val loss %.4f acc %.2f%% | %.0f img/s, %.1fs%s",
		r.Epoch, r.TrainLoss, 100*r.TrainAcc, r.ValLoss, 100*r.ValAcc, r.ImagesPerSec, r.Seconds, mark)
}

// ErrNonFinite is wrapped by the error Train returns when the loss is NaN or Inf.
var ErrNonFinite = errors.New("loss is not finite")

// Hooks let the caller save checkpoints and show progress.
type Hooks struct {
	// OnEpoch runs after every epoch with the model holding that epoch's
	// weights; best says whether it is the best epoch so far.
	OnEpoch func(rec EpochRecord, best bool) error
	// OnBatch, if set, sees the block indices drawn for every batch.
	OnBatch func(plans [][]int)
	// OnState, if set, runs at the end of every epoch (after OnEpoch) with
	// everything needed to resume; the model holds that epoch's weights.
	// The state shares the trainer's buffers: save it before returning.
	OnState func(st *State) error
	// Resume continues a training from a State saved by OnState; the caller
	// has put the state's weights into the model.
	Resume   *State
	Progress Progress
}

// State is a training paused at an epoch boundary. Every random stream of
// an epoch derives from (seed, epoch), so the epoch count is the whole
// data-order and RNG position, and a resumed run ends with the same weights
// as an uninterrupted one.
type State struct {
	Epoch     int         // epochs completed
	Steps     int         // AdamW updates taken
	M, V      [][]float32 // AdamW moments, in Model.Params() order
	Best      [][]float32 // weights of the best epoch so far
	BestEpoch int
	BestVal   float64
	History   []EpochRecord
}

// Result is what a finished training returns; the model holds the weights
// of the best epoch.
type Result struct {
	History   []EpochRecord `json:"history"`
	BestEpoch int           `json:"best_epoch"`
	BestVal   float64       `json:"best_val_accuracy"`
}

// Train fits m on train, selecting the epoch with the best validation
// accuracy under the variant's own order distribution.
func Train(m *vit.Model, train, val *dataset.Split, norm dataset.Normalization, opt Options, hooks Hooks) (*Result, error) {
	v := m.Config.Variant
	if err := opt.Validate(v); err != nil {
		return nil, err
	}
	if train.N == 0 {
		return nil, errors.New("the training split is empty")
	}
	if hooks.Progress == nil {
		hooks.Progress = quiet{}
	}
	stepsPerEpoch := (train.N + opt.Batch - 1) / opt.Batch
	sched := Schedule{Peak: opt.LR, Warmup: int(opt.WarmupFrac * float64(stepsPerEpoch*opt.Epochs)),
		Total: stepsPerEpoch * opt.Epochs, Final: opt.FinalLRFrac, Linear: opt.Decay == DecayLinear}
	params := m.Params()
	stepper := NewStepper(m, opt.WeightDecay, opt.ClipNorm, float32(opt.PosWeight))
	stepper.Micro = opt.MicroBatch
	if opt.TrainOnly == TrainOnlyHead {
		stepper.TrainOnly(IsHeadParam)
	}
	optim := stepper.Opt
	sampler := OrderSampler{Variant: v, Depth: len(m.Blocks), PerSample: opt.ShufflePer == "sample", LayerDropP: opt.LayerDropP}
	var aug *dataset.Augment
	switch {
	case train.Lazy() && opt.Augment != AugmentNone:
		aug = &dataset.Augment{RandomResizedCrop: true} // timm's training transform of full-size images
	case !train.Lazy() && opt.AugmentShift > 0:
		aug = &dataset.Augment{MaxShift: opt.AugmentShift}
	}
	eval := NewEvaluator(m, val, norm)
	best := snapshot(params)
	res := &Result{BestEpoch: -1, BestVal: -1}
	first := 1
	if r := hooks.Resume; r != nil {
		if err := optim.restore(r.Steps, r.M, r.V); err != nil {
			return nil, err
		}
		if len(r.Best) != len(params) {
			return nil, fmt.Errorf("resume state has %d best tensors, the model %d", len(r.Best), len(params))
		}
		for i, p := range params {
			if len(r.Best[i]) != p.Size() {
				return nil, fmt.Errorf("resume state: %s has %d values, want %d", p.Name, len(r.Best[i]), p.Size())
			}
			copy(best[i], r.Best[i])
		}
		first, res.BestEpoch, res.BestVal = r.Epoch+1, r.BestEpoch, r.BestVal
		res.History = append(res.History, r.History...)
	}
	size := train.ImageSize()
	rows := min(opt.Batch, train.N) // a batch past the split is the whole split
	var bufs [2]*batchBuffers
	for i := range bufs {
		bufs[i] = &batchBuffers{x: make([]float32, rows*size), labels: make([]int32, rows)}
	}
	for epoch := first; epoch <= opt.Epochs; epoch++ {
		// Every random stream is derived from (seed, epoch) so an epoch can be
		// replayed on its own, whatever ran before it.
		dataRng := rand.New(rand.NewPCG(opt.Seed, uint64(epoch)<<8|1))
		orderRng := rand.New(rand.NewPCG(opt.Seed, uint64(epoch)<<8|2))
		augRng := rand.New(rand.NewPCG(opt.Seed, uint64(epoch)<<8|3))
		perm := dataRng.Perm(train.N)
		hooks.Progress.StartEpoch(epoch, opt.Epochs, stepsPerEpoch)
		start := time.Now()
		var lossSum, slotSum float64
		var correct, seen int
		var lr float64
		loader := loadBatches(train, perm, opt.Batch, norm, aug, augRng, bufs)
		for step := 0; step < stepsPerEpoch; step++ {
			b := loader.next()
			if b.err != nil {
				loader.stop()
				return nil, b.err
			}
			lr = sched.LR((epoch-1)*stepsPerEpoch + step)
			st, err := trainStep(stepper, sampler, orderRng, hooks, m, b, lr)
			B := b.B
			loader.release(b) // the loader refills b from here on
			if err != nil {
				loader.stop()
			}
			if errors.Is(err, ErrNonFinite) || errors.Is(err, vit.ErrOperator) {
				kept := "no epoch finished, nothing was stored"
				if res.BestEpoch > 0 {
					kept = fmt.Sprintf("keeping the checkpoint of epoch %d", res.BestEpoch)
				}
				if errors.Is(err, vit.ErrOperator) {
					return res, fmt.Errorf("%w at epoch %d step %d; %s", err, epoch, step+1, kept)
				}
				loss := fmt.Sprintf("loss %v", st.Loss)
				if st.SlotLoss != 0 {
					loss += fmt.Sprintf(", slot loss %v", st.SlotLoss) // the one that is not finite may be this
				}
				return res, fmt.Errorf("%w: %s at epoch %d step %d (lr %.3g); %s", ErrNonFinite, loss, epoch, step+1, lr, kept)
			}
			if err != nil {
				return nil, err
			}
			lossSum += st.Loss * float64(B)
			slotSum += st.SlotLoss * float64(B)
			correct += st.Correct
			seen += B
			hooks.Progress.Update(step+1, lossSum/float64(seen), float64(correct)/float64(seen), float64(seen)/time.Since(start).Seconds())
		}
		if loader.next() != nil {
			panic("trainer: the loader filled more batches than the epoch has steps")
		}
		trainTime := time.Since(start).Seconds()
		rec := EpochRecord{Epoch: epoch, TrainLoss: lossSum / float64(seen), TrainAcc: float64(correct) / float64(seen),
			SlotLoss: slotSum / float64(seen), LR: lr, ImagesPerSec: float64(seen) / trainTime}
		rec.ValAcc, rec.ValLoss = ValidationAccuracy(eval, v, opt.Seed)
		rec.Seconds = time.Since(start).Seconds()
		if val.N == 0 {
			rec.ValAcc = rec.TrainAcc // nothing held out: the latest epoch wins ties
		}
		rec.Best = rec.ValAcc >= res.BestVal
		if rec.Best {
			res.BestEpoch, res.BestVal = epoch, rec.ValAcc
			best.take(params)
		}
		res.History = append(res.History, rec)
		hooks.Progress.EndEpoch(rec)
		if hooks.OnEpoch != nil {
			if err := hooks.OnEpoch(rec, rec.Best); err != nil {
				return nil, err
			}
		}
		if hooks.OnState != nil {
			st := &State{Epoch: epoch, Steps: optim.t, M: optim.m, V: optim.v, Best: best, BestEpoch: res.BestEpoch,
				BestVal: res.BestVal, History: res.History}
			if err := hooks.OnState(st); err != nil {
				return nil, err
			}
		}
	}
	best.restore(params)
	return res, nil
}

// trainStep draws the block orders of batch b and trains on it.
func trainStep(stepper *Stepper, sampler OrderSampler, orderRng *rand.Rand, hooks Hooks, m *vit.Model, b *batchBuffers, lr float64) (StepStats, error) {
	drawn := sampler.Draw(orderRng, b.B)
	if hooks.OnBatch != nil {
		hooks.OnBatch(drawn)
	}
	plans, err := resolvePlans(m, drawn)
	if err != nil {
		return StepStats{}, err
	}
	size := m.Config.ImageSize()
	return stepper.Step(b.x[:b.B*size], b.labels[:b.B], b.B, plans, lr)
}

// ValidationAccuracy measures accuracy under the variant's own order
// distribution: shuffled variants get a fresh random order per batch (the
// same orders every epoch, drawn from seed); the others run sequentially.
func ValidationAccuracy(e *Evaluator, v vit.Variant, seed uint64) (acc, loss float64) {
	if !v.Shuffled() {
		return e.Accuracy(e.Model.Sequential())
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a1))
	return e.accuracy(func(int) vit.Plan {
		p, _ := e.Model.PlanOf(rng.Perm(len(e.Model.Blocks)))
		return p
	})
}

func resolvePlans(m *vit.Model, idx [][]int) ([]vit.Plan, error) {
	plans := make([]vit.Plan, len(idx))
	for i, ix := range idx {
		p, err := m.PlanOf(ix)
		if err != nil {
			return nil, err
		}
		plans[i] = p
	}
	return plans, nil
}

// countCorrect counts the samples whose label is the argmax of its task's
// logits (perTask classes per task; all of them for one task).
func countCorrect(logits []float32, labels []int32, classes, perTask int) int {
	n := 0
	for i, l := range labels {
		row, y := taskLogits(logits[i*classes:(i+1)*classes], int(l), perTask)
		if stats.Argmax(row) == y {
			n++
		}
	}
	return n
}

// taskLogits is the part of a sample's logits that its label's task
// predicts, and the label within it: for a multi-task head (rows in groups
// of perTask, one per task) the group holding the label, so accuracy and
// loss are those of the label's own task head. With one task, or a label
// outside the row, it is the row and the label unchanged.
func taskLogits(row []float32, label, perTask int) ([]float32, int) {
	if perTask <= 0 || perTask >= len(row) || label < 0 || label >= len(row) {
		return row, label
	}
	g := label / perTask
	return row[g*perTask : (g+1)*perTask], label - g*perTask
}

// weights is a copy of every parameter, for keeping the best epoch.
type weights [][]float32

func snapshot(params []*vit.Param) weights {
	w := make(weights, len(params))
	for i, p := range params {
		w[i] = append([]float32(nil), p.Data()...)
	}
	return w
}

func (w weights) take(params []*vit.Param) {
	for i, p := range params {
		copy(w[i], p.Data())
	}
}

func (w weights) restore(params []*vit.Param) {
	for i, p := range params {
		copy(p.Data(), w[i])
	}
}
