package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(newRootCmd(), os.Stderr))
}

// run executes root on the command line and returns the exit code. An error is one
// line on stderr; so is a panic that reached the command's goroutine (the
// parallel kernels and evaluators carry their helpers' panics there), with
// the stack only when FRANKENVIT_TRACE is set.
func run(root *cobra.Command, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.As(err, new(*dataset.ReadError)) {
				fmt.Fprintln(stderr, "frankenvit: "+oneLine(err.Error()))
				code = 1
				return
			}
			if os.Getenv("FRANKENVIT_TRACE") != "" {
				stderr.Write(debug.Stack())
			}
			fmt.Fprintln(stderr, "frankenvit: internal error: "+oneLine(fmt.Sprint(r))+" (FRANKENVIT_TRACE=1 prints the stack)")
			code = 2
		}
	}()
	err := root.Execute()
	if cpuProf != nil {
		perr := cpuProf.Stop()
		cpuProf = nil
		if err == nil && perr != nil {
			err = fmt.Errorf("--cpuprofile: %w", perr)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "frankenvit: "+oneLine(err.Error()))
		return 1
	}
	return 0
}

// oneLine keeps a message on one line, whatever it carries.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }
