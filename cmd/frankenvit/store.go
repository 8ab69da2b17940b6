package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "store", Short: "List, inspect, verify, remove and export stored models"}
	cmd.AddCommand(newStoreLsCmd(), newStoreShowCmd(), newStoreExportCmd(), newStoreVerifyCmd(), newStoreRmCmd(),
		newStoreGCCmd())
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
			// A manifest no command can use is shown (its "problem" row) and
			// then reported as the error it is.
			return workflow.CheckManifest(man)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the manifest as JSON")
	return cmd
}

func newStoreExportCmd() *cobra.Command {
	var req workflow.ExportRequest
	cmd := &cobra.Command{
		Use:   "export NAME FILE.safetensors|FOLDER",
		Short: "Write a model for other tools: one safetensors file (frankenvit), or a timm or Hugging Face folder",
		Long: `--format frankenvit (the default) writes one plain safetensors file with timm's tensor names and the
metadata that store import reads back. --format timm writes a folder in timm's hub layout (model.safetensors,
config.json with model_args and pretrained_cfg); --format hf a folder that transformers'
ViTForImageClassification loads (config.json, preprocessor_config.json, model.safetensors). The plan is
exported: a pruned or spliced model has as many blocks as it runs. A folder must be new or empty.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore()
			if err != nil {
				return err
			}
			req.Name, req.Path, req.Log = args[0], args[1], os.Stderr
			if err := workflow.Export(s, req); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "wrote %s\n", args[1])
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Format, "format", workflow.FormatFrankenvit, "frankenvit, timm or hf")
	return cmd
}

func newStoreVerifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify [NAME]",
		Short: "Check blobs against their hashes and manifests against their blobs (all models, or NAME)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore()
			if err != nil {
				return err
			}
			r, err := s.Check(args...)
			if err != nil {
				return err
			}
			t := &table.Table{Title: fmt.Sprintf("%s: %d model(s), %d blob(s) checked", r.Store, len(r.Models), r.Blobs),
				Header: []string{"model", "part", "blob", "problem"}}
			// Blobs and references are the store's to check; the manifests'
			// records (config, normalisation, training, recipe) are checked
			// here, since only the layers above the store know what they mean.
			for i := range r.Models {
				m := &r.Models[i]
				if man, err := s.Get(m.Name); err == nil {
					if err := workflow.CheckManifest(man); err != nil {
						what := strings.TrimPrefix(err.Error(), "model "+m.Name+": manifest ")
						m.Problems = append(m.Problems, &checkpoint.Problem{Model: m.Name, Part: "manifest", Problem: what})
						m.OK, r.OK = false, false
					}
				}
				if m.OK {
					t.Add(m.Name, fmt.Sprintf("all %d parts", m.Parts), "-", "OK")
				}
				for _, p := range m.Problems {
					t.Add(p.Model, p.Part, shortDigest(p.Blob), p.Problem)
				}
			}
			for _, g := range r.Garbage {
				what := "garbage: no model uses it (store gc deletes it)"
				if g.Problem != "" {
					what += ", also " + g.Problem
				}
				t.Add("-", "unreferenced blob", shortDigest(g.Blob), what)
			}
			if err := printResult(asJSON, r, t); err != nil {
				return err
			}
			return r.Err()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// shortDigest abbreviates a digest for a table; errors keep it whole.
func shortDigest(d string) string {
	if d == "" {
		return "-"
	}
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func newStoreRmCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a model and every blob no other model uses (a Frankenstein model keeps its donor blocks)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore()
			if err != nil {
				return err
			}
			freed, err := s.Remove(args[0])
			if err != nil {
				return err
			}
			t := &table.Table{Header: []string{"removed model", "blobs freed", "bytes freed"}}
			t.Add(args[0], fmt.Sprint(len(freed.Blobs)), fmt.Sprint(freed.BlobBytes))
			return printResult(asJSON, struct {
				Model string `json:"model"`
				*checkpoint.Freed
			}{args[0], freed}, t)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newStoreGCCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete the blobs no model uses and the temporary files killed writers left",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore()
			if err != nil {
				return err
			}
			freed, err := s.GC()
			if err != nil {
				return err
			}
			t := &table.Table{Header: []string{"freed", "count", "bytes"}}
			t.Add("unreferenced blobs", fmt.Sprint(len(freed.Blobs)), fmt.Sprint(freed.BlobBytes))
			t.Add("temporary files", fmt.Sprint(freed.TempFiles), fmt.Sprint(freed.TempBytes))
			t.Add("total", fmt.Sprint(len(freed.Blobs)+freed.TempFiles), fmt.Sprint(freed.Bytes()))
			return printResult(asJSON, freed, t)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
