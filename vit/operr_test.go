package vit

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// setFailHook installs failHook for the rest of the test.
func setFailHook(t *testing.T, hook func(op fusedOp, phase string) error) {
	t.Helper()
	failHook = hook
	t.Cleanup(func() { failHook = nil })
}

// within fails t when fn does not return in time: a failed operator must
// not leave the backward pass waiting for a gradient, a turn or a lock.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return within a minute (a failed operator left the graph waiting)", what)
	}
}

// failingStep builds and differentiates one per-sample step of a model of
// variant v, returning the error of the forward pass or of the backward pass.
func failingStep(t *testing.T, m *Model) (forwardErr, backwardErr error) {
	t.Helper()
	const B = 6
	x, labels := randomImages(m.Config, B, 2), randomLabels(m.Config, B, 3)
	plans := shuffledPlans(t, m, B, true, rand.New(rand.NewPCG(4, 5)))
	zeroGrads(m.Params())
	var st *Step
	within(t, "the forward pass", func() { st, forwardErr = m.ForwardShard(x, labels, B, B, plans, 0.5, new(Arena)) })
	if forwardErr != nil {
		if st != nil {
			t.Errorf("ForwardShard returned a step with its error %v", forwardErr)
		}
		return forwardErr, nil
	}
	within(t, "the backward pass", func() { backwardErr = st.Backward() })
	if backwardErr != nil && st.Err() != backwardErr {
		t.Errorf("Step.Err() = %v, Backward returned %v", st.Err(), backwardErr)
	}
	return nil, backwardErr
}

// checkOpError asserts that err is the *OpError of operator op (a prefix of
// its Op) in phase, wrapping cause when it is not nil.
func checkOpError(t *testing.T, err error, op, phase string, cause error) *OpError {
	t.Helper()
	var oe *OpError
	if !errors.As(err, &oe) || !errors.Is(err, ErrOperator) {
		t.Fatalf("%s %s: want an *OpError matching ErrOperator, got %v", op, phase, err)
	}
	if !strings.HasPrefix(oe.Op, op) || oe.Phase != phase || !strings.Contains(err.Error(), op) {
		t.Errorf("want operator %q in %s, got %q in %s (%v)", op, phase, oe.Op, oe.Phase, err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("%s %s: the error does not wrap the operator's error: %v", op, phase, err)
	}
	return oe
}

// TestOperatorFailureIsAnError makes every kind of operator of the training
// graph fail, by returning an error and by panicking, in forward and in
// backward: the process goes on, nothing waits forever, the step returns an
// error naming the operator, and the next step is exact again.
func TestOperatorFailureIsAnError(t *testing.T) {
	// Between them, per-sample steps of these variants run every operator.
	ops := map[Variant][]string{
		ShufflePosition: {"patch embedding", "gather", "slot projection", "attention", "mlp", "scatter", "class head loss"},
		ShufflePredict:  {"slot head loss", "loss sum"},
	}
	injected := errors.New("injected failure")
	for _, v := range []Variant{ShufflePosition, ShufflePredict} {
		m := randomModel(t, "m", tinyConfig(v), 1)
		_, err := failingStep(t, m)
		if err != nil {
			t.Fatalf("%s: a clean step failed: %v", v, err)
		}
		want := snapshotGrads(m)
		for _, op := range ops[v] {
			for _, phase := range []string{"forward", "backward"} {
				for _, mode := range []string{"error", "panic"} {
					t.Run(fmt.Sprintf("%s/%s/%s", op, phase, mode), func(t *testing.T) {
						var calls atomic.Int32
						setFailHook(t, func(f fusedOp, p string) error {
							o := f.name()
							if o != op || p != phase {
								return nil
							}
							// Of the operators that add into a shared gradient in turns,
							// fail those the others wait for: their turn must still end.
							if tt, ok := f.(interface{ gradTurn() *gradTurn }); ok && tt.gradTurn().after != nil {
								return nil
							}
							calls.Add(1)
							if mode == "panic" {
								panic(fmt.Sprintf("injected panic in %s", o))
							}
							return fmt.Errorf("%s %s: %w", o, p, injected)
						})
						ferr, berr := failingStep(t, m)
						err := ferr
						if phase == "backward" {
							if ferr != nil {
								t.Fatalf("the forward pass failed: %v", ferr)
							}
							err = berr
						}
						if calls.Load() == 0 {
							t.Fatalf("no %s operator ran its %s", op, phase)
						}
						var cause error
						if mode == "error" {
							cause = injected
						}
						oe := checkOpError(t, err, op, phase, cause)
						if mode == "panic" && (!strings.Contains(oe.Error(), "panic: injected panic in "+op) || len(oe.Stack) == 0) {
							t.Errorf("a recovered panic should say so and keep its stack: %v (%d bytes of stack)", oe, len(oe.Stack))
						}
						failHook = nil
						if _, err := failingStep(t, m); err != nil {
							t.Fatalf("the step after a failure failed: %v", err)
						}
						if got := snapshotGrads(m); !equalGrads(got, want) {
							t.Errorf("the step after a failure gives other gradients")
						}
					})
				}
			}
		}
	}
}

// TestKernelPanicIsAnError: real panics inside the kernels (a parameter or
// gradient of the wrong size) in forward and in backward, the latter inside
// a block's lock, come back as errors and leave no lock held.
func TestKernelPanicIsAnError(t *testing.T) {
	m := randomModel(t, "m", tinyConfig(ShufflePredict), 1)
	if _, err := failingStep(t, m); err != nil {
		t.Fatal(err)
	}
	want := snapshotGrads(m)

	fc1 := m.Blocks[1].Fc1W
	full := fc1.Grad
	fc1.Grad = full[:3] // too short for the weight gradient
	_, err := failingStep(t, m)
	fc1.Grad = full
	oe := checkOpError(t, err, "mlp (block m[1])", "backward", nil)
	if !strings.Contains(oe.Error(), "kernels:") {
		t.Errorf("the error should carry the kernel's panic: %v", oe)
	}

	bias := m.Blocks[2].QkvB
	value := bias.Value
	bias.Value = make([]float32, 2) // too short a bias
	err, _ = failingStep(t, m)
	bias.Value = value
	checkOpError(t, err, "attention (block m[2])", "forward", nil)

	if _, err := failingStep(t, m); err != nil {
		t.Fatalf("the step after the failures failed: %v", err)
	}
	if !equalGrads(snapshotGrads(m), want) {
		t.Error("the step after the failures gives other gradients")
	}
}

// TestFirstOperatorFailureWins: when every backward fails at once, on
// spago's goroutines, the step keeps exactly one failure.
func TestFirstOperatorFailureWins(t *testing.T) {
	m := randomModel(t, "m", tinyConfig(ShufflePredict), 1)
	setFailHook(t, func(op fusedOp, phase string) error {
		if phase == "backward" {
			return fmt.Errorf("%s fails", op.name())
		}
		return nil
	})
	_, err := failingStep(t, m)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Phase != "backward" || !strings.HasPrefix(oe.Err.Error(), strings.Split(oe.Op, " (")[0]+" fails") {
		t.Fatalf("want one backward failure, got %v", err)
	}
}

func equalGrads(a, b [][]float32) bool {
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}
