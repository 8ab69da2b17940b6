package workflow

import (
	"encoding/json"
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
	Limit int       // evaluate on the first Limit images only
	Log   io.Writer // progress over the orders; nil for none
}

// EvalOutcome is the accuracy of a stored model under an order.
type EvalOutcome struct {
	Model string `json:"model"`
	Data  string `json:"data"`
	Split string `json:"split"`
	trainer.OrderResult
}

// Eval loads a model and measures it. The validation split is carved with
// the seed and fraction the model was trained with.
func Eval(s *checkpoint.Store, req EvalRequest) (*EvalOutcome, error) {
	order, err := trainer.ParseOrder(req.Order)
	if err != nil {
		return nil, err
	}
	m, man, err := LoadModel(s, req.Name)
	if err != nil {
		return nil, err
	}
	var rec TrainingRecord
	_ = json.Unmarshal(man.Training, &rec)
	dataOpt := rec.Data
	if dataOpt.Spec == "" {
		dataOpt.Spec = man.Data
	}
	if req.Data != "" {
		dataOpt.Spec = req.Data
	}
	if order.Kind == "list" {
		if _, err := m.PlanOf(order.Indices); err != nil {
			return nil, err
		}
	}
	norm, err := Normalization(man)
	if err != nil {
		return nil, err
	}
	data, err := LoadData(dataOpt)
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
