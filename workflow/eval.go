package workflow

import (
	"fmt"
	"io"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/modelstore"
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
	st, err := modelstore.Load(s, req.Name)
	if err != nil {
		return nil, err
	}
	if order.Kind == "list" {
		if _, err := st.Model.PlanOf(order.Indices); err != nil {
			return nil, err
		}
	}
	md, err := st.WithData(req.Data, nil)
	if err != nil {
		return nil, err
	}
	split, err := md.Data.Split(req.Split)
	if err != nil {
		return nil, err
	}
	if req.Limit > 0 {
		split = split.Limit(req.Limit)
	}
	ev := trainer.NewEvaluator(md.Model, split, md.Norm)
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
	return &EvalOutcome{Model: req.Name, Data: md.Spec, Split: req.Split, OrderResult: res}, nil
}
