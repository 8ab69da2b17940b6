package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestPanicIsOneLine: a panic that reaches the command's goroutine ends the
// command with one line and exit 2, not a stack dump; errors stay exit 1.
func TestPanicIsOneLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		runE func(*cobra.Command, []string) error
		code int
		want string
	}{
		{"panic", func(*cobra.Command, []string) error { panic("index out of range [3] with length 3\nmore") }, 2,
			"frankenvit: internal error: index out of range [3] with length 3; more (FRANKENVIT_TRACE=1 prints the stack)\n"},
		{"error", func(*cobra.Command, []string) error { return errors.New("bad input\nsecond line") }, 1,
			"frankenvit: bad input; second line\n"},
		{"ok", func(*cobra.Command, []string) error { return nil }, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FRANKENVIT_TRACE", "")
			root := &cobra.Command{Use: "frankenvit", RunE: tc.runE, SilenceErrors: true, SilenceUsage: true}
			root.SetArgs(nil)
			var stderr bytes.Buffer
			if code := run(root, &stderr); code != tc.code || stderr.String() != tc.want {
				t.Errorf("exit %d, stderr %q; want exit %d, %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
	t.Setenv("FRANKENVIT_TRACE", "1")
	root := &cobra.Command{Use: "frankenvit", SilenceErrors: true, RunE: func(*cobra.Command, []string) error { panic("boom") }}
	root.SetArgs(nil)
	var stderr bytes.Buffer
	if code := run(root, &stderr); code != 2 || !strings.Contains(stderr.String(), "goroutine") || !strings.HasSuffix(stderr.String(), "internal error: boom (FRANKENVIT_TRACE=1 prints the stack)\n") {
		t.Errorf("with FRANKENVIT_TRACE: exit %d, stderr %q", code, stderr.String())
	}
}
