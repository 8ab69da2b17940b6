package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/frankenvit/frankenvit/bench/table"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "store", Short: "List, inspect and export stored models"}
	cmd.AddCommand(newStoreLsCmd(), newStoreShowCmd(), newStoreExportCmd())
	return cmd
}

func newStoreLsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the models in the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore()
			if err != nil {
				return err
			}
			rows, listErr := workflow.ListModels(s)
			t := &table.Table{Header: []string{"name", "variant", "status", "data", "blocks", "dim", "val acc", "test acc", "created"}}
			for _, r := range rows {
				t.Add(r.Name, r.Variant, r.Status, r.Data, fmt.Sprint(r.Blocks), fmt.Sprint(r.Dim), pctOrDash(r.ValAccuracy),
					pctOrDash(r.TestAccuracy), r.Created)
			}
			if err := printResult(asJSON, rows, t); err != nil {
				return err
			}
			return listErr
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func pctOrDash(x *float64) string {
	if x == nil {
		return "-"
	}
	return pct(*x)
}

func newStoreShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a model's manifest: config, plan, metrics and training history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore()
			if err != nil {
				return err
			}
			man, err := s.Get(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(man)
			}
			for _, t := range workflow.DescribeManifest(man) {
				if err := t.Render(os.Stdout); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the manifest as JSON")
	return cmd
}

func newStoreExportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "export NAME FILE.safetensors",
		Short: "Write a model as one plain safetensors file with timm's tensor names",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore()
			if err != nil {
				return err
			}
			if err := s.Export(args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "wrote %s\n", args[1])
			return nil
		},
	}
}
