// Command frankenvit trains LayerShuffle Vision Transformers, builds
// Frankenstein models out of their blocks and measures how they degrade.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		// One line, whatever the error carries.
		fmt.Fprintln(os.Stderr, "frankenvit: "+strings.ReplaceAll(err.Error(), "\n", "; "))
		os.Exit(1)
	}
}
