package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/cpuprofile"
	"github.com/frankenvit/frankenvit/plot"
	"github.com/frankenvit/frankenvit/table"
	"github.com/spf13/cobra"
)

var (
	storeDir   string
	cpuProfOut string              // --cpuprofile
	cpuProf    *cpuprofile.Profile // the running profile, stopped by run
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "frankenvit",
		Short:         "A workbench for Frankenstein Vision Transformers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&storeDir, "store", checkpoint.DefaultDir(), "store directory (or FRANKENVIT_STORE)")
	root.PersistentFlags().StringVar(&cpuProfOut, "cpuprofile", "", "write a CPU profile of the whole command to this file (for go tool pprof)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuProfOut == "" {
			return nil
		}
		if err := checkOutputDir("--cpuprofile", cpuProfOut); err != nil {
			return err
		}
		cpuProf = cpuprofile.Start(cpuProfOut)
		return nil
	}
	store := newStoreCmd()
	store.AddCommand(newStoreImportCmd())
	root.AddCommand(newTrainCmd(), newPopulationCmd(), newEvalCmd(), store, newBenchCmd(), newPruneCmd(), newStudyCmd())
	root.AddCommand(newMergeCmd())
	root.AddCommand(newAnalyzeCmd())
	root.AddCommand(newServeCmd(), newSwarmCmd())
	return root
}

func openStore() (*checkpoint.Store, error) { return checkpoint.Open(storeDir) }

// printResult writes v as indented JSON when asJSON is set, else the table.
func printResult(asJSON bool, v any, t *table.Table) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return t.Render(os.Stdout)
}

// outputFile is an output file named by a flag ("" for none).
type outputFile struct{ flag, path string }

// checkOutputs refuses, before any work, output files that could not be
// written: a --plot whose name is not .svg or .png, a folder that does not
// exist.
func checkOutputs(plotPath string, files ...outputFile) error {
	if plotPath != "" {
		if _, err := plot.Format(plotPath); err != nil {
			return fmt.Errorf("--plot: %v", err)
		}
	}
	for _, f := range append(files, outputFile{"--plot", plotPath}) {
		if err := checkOutputDir(f.flag, f.path); err != nil {
			return err
		}
	}
	return nil
}

// checkOutputDir refuses an output file (given by flag) whose folder does
// not exist, so that a bad path fails before any work; "" is no file.
func checkOutputDir(flag, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return fmt.Errorf("%s %s: directory %s does not exist", flag, path, filepath.Dir(path))
	}
	return nil
}
