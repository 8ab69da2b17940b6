package workflow

import (
	"fmt"
	"io"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/trainer"
)

// EvalRequest is everything `frankenvit eval` needs.
type EvalRequest struct {
	Name  string
	Data  string    // "" = the data the model was trained on
	Split string    // test, val or train
	Order string    // sequential | reversed | random[:K] | i,j,k
	Seed  uint64    // for random orders
	Limit int       // evaluate on the first Limit images of the split only (0 = all)
	Log   io.Writer // progress over the orders; nil for none
}

// EvalOutcome is the accuracy of a stored model under an order.
type EvalOutcome struct {
	Model string `json:"model"`
	Data  string `json:"data"`
	Split string `json:"split"`
	trainer.OrderResult
}

// Eval loads a model and measures it. The validation split is carved as the
// model's training carved it (its limit, fraction and seed: the very images
// it was validated on); the test split is whole. Only the request's own
// Limit shortens the split measured, and the outcome says how many images
// it measured.
func Eval(s *checkpoint.Store, req EvalRequest) (*EvalOutcome, error) {
	order, err := trainer.ParseOrder(req.Order)
	if err != nil {
		return nil, err
	}
	if req.Limit < 0 {
		return nil, fmt.Errorf("--limit must not be negative, got %d", req.Limit)
	}
	m, _, recs, err := loadModel(s, req.Name)
	if err != nil {
		return nil, err
	}
	dataOpt := recs.Training.Data
	if req.Data != "" {
		dataOpt.Spec = req.Data
	}
	if order.Kind == "list" {
		if _, err := m.PlanOf(order.Indices); err != nil {
			return nil, err
		}
	}
	norm := recs.Normalization
	data, err := LoadTrainedData(dataOpt)
	if err != nil {
		return nil, err
	}
	split, err := data.Split(req.Split)
	if err != nil {
		return nil, err
	}
	if err := checkDataFits(m.Config, split, len(data.Set.Classes), req.Name, dataOpt.Spec); err != nil {
		return nil, err
	}
	if req.Limit > 0 {
		split = split.Limit(req.Limit)
	}
	ev := trainer.NewEvaluator(m, split, norm)
	var tick func(int)
	ev.OnProgress = func(done, total int) {
		if tick == nil {
			tick = trainer.NewCounter(req.Log, "evaluating "+req.Name+" under "+order.String()+" (batches)", total)
		}
		tick(done)
	}
	res, err := ev.EvaluateOrder(order, req.Seed)
	if err != nil {
		return nil, err
	}
	return &EvalOutcome{Model: req.Name, Data: dataOpt.Spec, Split: req.Split, OrderResult: res}, nil
}
