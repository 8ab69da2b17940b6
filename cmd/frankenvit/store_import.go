package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newStoreImportCmd() *cobra.Command {
	var req workflow.ImportRequest
	var image string
	var mean, std []float32
	cmd := &cobra.Command{
		Use:   "import FILE.safetensors NAME",
		Short: "Store a safetensors file with timm's tensor names as a model",
		Long: `Reads a ViT in timm's VisionTransformer names (a frankenvit export or a compatible file). The config
comes from the file's metadata or is inferred from the shapes; what neither says (the heads, the image size
of a non-square grid, the input normalisation) is given by flag. Every tensor is checked first.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.File, req.Name, req.Mean, req.Std = args[0], args[1], mean, std
			if image != "" {
				h, w, ok := strings.Cut(image, "x")
				hi, err1 := strconv.Atoi(h)
				wi, err2 := strconv.Atoi(w)
				if !ok || err1 != nil || err2 != nil || hi <= 0 || wi <= 0 {
					return fmt.Errorf("--image %q: want HEIGHTxWIDTH, e.g. 28x28", image)
				}
				req.Image = [2]int{hi, wi}
			}
			s, err := openStore()
			if err != nil {
				return err
			}
			man, err := workflow.Import(s, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "imported %s as %s (%s, %d blocks)\n", req.File, man.Name, man.Variant, len(man.Blocks))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&req.Heads, "heads", 0, "attention heads (when the file does not say)")
	fl.StringVar(&image, "image", "", "image size HEIGHTxWIDTH (when the patch grid is not square)")
	fl.StringVar(&req.Variant, "variant", "", "variant (default: inferred from the tensors)")
	fl.StringVar(&req.Data, "data", "", "the data set the model reads")
	fl.Float32SliceVar(&mean, "mean", nil, "per-channel input mean (when the file has no normalization)")
	fl.Float32SliceVar(&std, "std", nil, "per-channel input std")
	return cmd
}
