package dataset

import (
	"fmt"
	"strings"
)

// Multi-task data. A multi-task model has one head per task, all of one
// class count C, and task k's classes are the global labels k*C .. k*C+C-1.
// Pool concatenates the splits of several tasks with their labels so
// offset; OffsetLabels is one task's split on its own under the same
// numbering (what a task's head is evaluated or fine-tuned on).

// MaxPooledClasses is the most classes pooled tasks may have together:
// labels are stored as bytes.
const MaxPooledClasses = 256

// PoolSpec is the data spec naming several tasks pooled: their specs joined
// by "+" (mnist+fashion-mnist+mnist@rot90). It names, it is not parsed: the
// task list itself travels with it.
func PoolSpec(tasks []string) string { return strings.Join(tasks, "+") }

// CheckTasks checks a task list without reading any file: at least two
// tasks, each a valid data spec (see ParseDataSpec) holding no comma, none
// given twice. Every problem is named in one error.
func CheckTasks(tasks []string) error {
	var problems []string
	if len(tasks) < 2 {
		problems = append(problems, fmt.Sprintf("a multi-task model needs at least two tasks, got %d", len(tasks)))
	}
	seen := map[string]bool{}
	for _, t := range tasks {
		if t == "" {
			problems = append(problems, "an empty task name")
			continue
		}
		if strings.Contains(t, ",") {
			problems = append(problems, fmt.Sprintf("task %q holds a comma", t))
		}
		if _, err := ParseDataSpec(t); err != nil {
			problems = append(problems, strings.TrimPrefix(err.Error(), "dataset: "))
		}
		if seen[t] {
			problems = append(problems, fmt.Sprintf("task %q given twice", t))
		}
		seen[t] = true
	}
	if len(problems) > 0 {
		return fmt.Errorf("--tasks: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Pool concatenates the splits of several tasks (splits[k] of tasks[k], in
// that order), each of classes classes, into one split whose task-k labels
// are offset by k*classes. Every split must have the image shape of the
// first; an error names the task that does not. Pixels are copied, so a
// lazy split (OpenFolder) cannot be pooled.
func Pool(tasks []string, splits []*Split, classes int) (*Split, error) {
	if len(tasks) != len(splits) || len(splits) == 0 {
		return nil, fmt.Errorf("dataset: pool of %d tasks given %d splits", len(tasks), len(splits))
	}
	if classes <= 0 || classes*len(tasks) > MaxPooledClasses {
		return nil, fmt.Errorf("dataset: %d tasks of %d classes cannot be pooled: at most %d classes in all", len(tasks), classes, MaxPooledClasses)
	}
	first := splits[0]
	n := 0
	for k, s := range splits {
		if s.Lazy() {
			return nil, fmt.Errorf("task %s: %w", tasks[k], errLazy("pooling tasks"))
		}
		if s.C != first.C || s.H != first.H || s.W != first.W {
			return nil, fmt.Errorf("task %s has %dx%dx%d images, task %s %dx%dx%d: pooled tasks need one image shape",
				tasks[k], s.H, s.W, s.C, tasks[0], first.H, first.W, first.C)
		}
		if s.Labels == nil && s.N > 0 {
			return nil, fmt.Errorf("task %s has no labels", tasks[k])
		}
		n += s.N
	}
	out := &Split{Pixels: make([]uint8, 0, n*first.ImageSize()), Labels: make([]uint8, 0, n), N: n, C: first.C, H: first.H, W: first.W}
	for k, s := range splits {
		for _, l := range s.Labels[:s.N] {
			if int(l) >= classes {
				return nil, fmt.Errorf("task %s has a label %d, but tasks have %d classes", tasks[k], l, classes)
			}
			out.Labels = append(out.Labels, uint8(k*classes+int(l)))
		}
		out.Pixels = append(out.Pixels, s.Pixels[:s.N*s.ImageSize()]...)
	}
	return out, nil
}

// OffsetLabels is one task's split in a pool's numbering: s's images
// (shared, not copied) with every label plus offset (task k of C classes:
// offset k*C). Offset 0 returns s itself.
func OffsetLabels(s *Split, offset int) (*Split, error) {
	if offset == 0 {
		return s, nil
	}
	out := *s
	out.Labels = make([]uint8, len(s.Labels))
	for i, l := range s.Labels {
		v := int(l) + offset
		if v < 0 || v >= MaxPooledClasses {
			return nil, fmt.Errorf("dataset: label %d offset by %d is outside a byte", l, offset)
		}
		out.Labels[i] = uint8(v)
	}
	return &out, nil
}

// PooledClassNames names the classes of a pool: task k's class i is
// "TASK/NAME" at k*len(names[k])+i.
func PooledClassNames(tasks []string, names [][]string) []string {
	var out []string
	for k, t := range tasks {
		for _, n := range names[k] {
			out = append(out, t+"/"+n)
		}
	}
	return out
}
