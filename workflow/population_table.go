package workflow

import (
	"fmt"

	"github.com/frankenvit/frankenvit/table"
)

// PopulationTables is a population's summary as tables: one row per model;
// for a multi-task population, also one row per task and model (each
// measured with that task's head on that task's test split), then the
// average over the tasks per role, named as FusionBench's rows.
func PopulationTables(sum *PopulationSummary) []*table.Table {
	pct := func(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }
	t := &table.Table{Title: fmt.Sprintf("population %s (%s, %s)", sum.Prefix, sum.Variant, sum.Data),
		Header: []string{"model", "role", "seed", "status", "val acc", "test acc sequential", "test acc " + sum.Orders}}
	for _, m := range sum.Members {
		if m.Unmeasured {
			t.Add(m.Name, m.Role, fmt.Sprint(m.Seed), m.Status, "-", "-", "-")
			continue
		}
		t.Add(m.Name, m.Role, fmt.Sprint(m.Seed), m.Status, pct(m.ValAccuracy), pct(m.TestSequential),
			fmt.Sprintf("%s ± %s", pct(m.TestRandom), pct(m.TestRandomStd)))
	}
	if len(sum.Tasks) == 0 {
		return []*table.Table{t}
	}
	tasks := &table.Table{Title: fmt.Sprintf("multi-task population %s (%s, %d tasks)", sum.Prefix, sum.Variant, len(sum.Tasks)),
		Header: []string{"task", "model", "role", "test acc sequential", "test acc " + sum.Orders}}
	for _, r := range append(sum.PerTask, TaskAverages(sum)...) {
		tasks.Add(r.Task, r.Model, taskRole(r.Role), pct(r.TestSequential), fmt.Sprintf("%s ± %s", pct(r.TestRandom), pct(r.TestRandomStd)))
	}
	return []*table.Table{t, tasks}
}

// taskRole names a role as FusionBench's rows do.
func taskRole(role string) string {
	switch role {
	case "member":
		return "individual (child)"
	case RoleProbe:
		return "pretrained (head only)"
	case RoleMultiTask:
		return "multi-task"
	}
	return role
}
