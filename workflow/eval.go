package workflow

import (
	"fmt"
	"io"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
)

// EvalRequest is everything `frankenvit eval` needs.
type EvalRequest struct {
	Name  string
	Data  string // "" = the data the model was trained on
	Split string // test, val or train
	Order string // sequential | reversed | random[:K] | i,j,k
	Seed  uint64 // for random orders
	Limit int    // evaluate on the first Limit images of the split only (0 = all)
	// Task picks the head and data of a multi-task model: "" is the task
	// it was trained on if that is one of its tasks, else its first (see
	// modelstore.Stored.Task). A single-task model refuses a Task.
	Task string
	Log  io.Writer // progress over the orders; nil for none
}

// EvalOutcome is the accuracy of a stored model under an order.
type EvalOutcome struct {
	Model string `json:"model"`
	Data  string `json:"data"`
	Split string `json:"split"`
	Task  string `json:"task,omitempty"` // the task head measured, for a multi-task model
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
	md, split, task, err := loadSplit(s, req)
	if err != nil {
		return nil, err
	}
	if order.Kind == "list" {
		if _, err := md.Model.PlanOf(order.Indices); err != nil {
			return nil, err
		}
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
	return &EvalOutcome{Model: req.Name, Data: md.Spec, Split: req.Split, Task: task, OrderResult: res}, nil
}

// loadSplit loads the request's model, the data it is measured on and the
// split (shortened to the request's Limit), and names the task head
// measured ("" for a single-task model).
func loadSplit(s *checkpoint.Store, req EvalRequest) (*modelstore.ModelData, *dataset.Split, string, error) {
	if req.Limit < 0 {
		return nil, nil, "", fmt.Errorf("--limit must not be negative, got %d", req.Limit)
	}
	st, err := modelstore.Load(s, req.Name)
	if err != nil {
		return nil, nil, "", err
	}
	task := ""
	var md *modelstore.ModelData
	if len(st.Model.Config.Tasks) > 0 || req.Task != "" {
		k := 0
		if task, k, err = st.Task(req.Task); err != nil {
			return nil, nil, "", err
		}
		if req.Data != "" && req.Data != task {
			return nil, nil, "", fmt.Errorf("model %s is a multi-task model: --data %s is not its task %s (pick a task with --task)", req.Name, req.Data, task)
		}
		md, err = st.WithTask(k, nil)
	} else {
		md, err = st.WithData(req.Data, nil)
	}
	if err != nil {
		return nil, nil, "", err
	}
	split, err := md.Data.Split(req.Split)
	if err != nil {
		return nil, nil, "", err
	}
	if req.Limit > 0 {
		split = split.Limit(req.Limit)
	}
	return md, split, task, nil
}

// AllTasks is the EvalRequest.Task that EvalTasks reads as every task.
const AllTasks = "all"

// EvalTasks measures every task head of a multi-task model on its own task
// (req.Task is ignored): one outcome per task, in the model's task order.
func EvalTasks(s *checkpoint.Store, req EvalRequest) ([]*EvalOutcome, error) {
	if req.Data != "" {
		return nil, fmt.Errorf("--task all measures every task on its own data: --data does not apply")
	}
	st, err := modelstore.Load(s, req.Name)
	if err != nil {
		return nil, err
	}
	if len(st.Model.Config.Tasks) == 0 {
		_, _, err := st.Task(AllTasks)
		return nil, err
	}
	var out []*EvalOutcome
	for _, t := range st.Model.Config.Tasks {
		r := req
		r.Task = t
		ev, err := Eval(s, r)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", t, err)
		}
		out = append(out, ev)
	}
	return out, nil
}
