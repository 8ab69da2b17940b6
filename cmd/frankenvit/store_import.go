package main

import (
	"fmt"
	"os"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newStoreImportCmd() *cobra.Command {
	var req workflow.ImportRequest
	var image string
	var mean, std []float32
	cmd := &cobra.Command{
		Use:   "import FILE.safetensors|FOLDER NAME",
		Short: "Store a pretrained ViT (a safetensors file, a timm hub folder or a Hugging Face folder) as a model",
		Long: `Reads a ViT in timm's VisionTransformer names (a frankenvit export or a bare timm file), a timm hub
folder (model.safetensors and config.json with a pretrained_cfg), or a Hugging Face folder of a
ViTForImageClassification or ViTModel (config.json, preprocessor_config.json, model.safetensors or shards
with model.safetensors.index.json). The config, normalisation and preprocessing come from the files or are
inferred from the shapes; what they do not say (the heads, the image size of a non-square grid, the input
normalisation) is given by flag. Every tensor is checked first, and what the engine does not run (register
tokens, global average pooling, distillation, layer scale, qk norm, ...) is refused by name.
--new-head N replaces the classifier by a zero-initialised one of N classes (needed for a ViTModel).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.File, req.Name, req.Mean, req.Std = args[0], args[1], mean, std
			if image != "" {
				size, err := dataset.ParseImageSize(image)
				if err != nil {
					return fmt.Errorf("--image %v", err)
				}
				req.Image = size
			}
			s, err := openStore()
			if err != nil {
				return err
			}
			req.Log = os.Stderr
			man, err := workflow.Import(s, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "imported %s as %s (%s, %d blocks)\n", req.File, man.Name, man.Variant, len(man.Blocks))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&req.Heads, "heads", 0, "attention heads (when the files do not say; default dim/64 when it divides)")
	fl.StringVar(&image, "image", "", "image size HEIGHTxWIDTH (when the patch grid is not square)")
	fl.StringVar(&req.Variant, "variant", "", "variant (default: inferred from the tensors)")
	fl.StringVar(&req.Data, "data", "", "the data set the model reads")
	fl.Float32SliceVar(&mean, "mean", nil, "per-channel input mean (when the file has no normalization)")
	fl.Float32SliceVar(&std, "std", nil, "per-channel input std")
	fl.IntVar(&req.NewHead, "new-head", 0, "replace the classifier by a zero-initialised one of N classes (a ViTModel has none)")
	return cmd
}
