#!/usr/bin/env bash
# The detector trained on a lent GPU machine, in one `run` call; everything it makes goes to $OUT.
#
# Here, first:  python scripts/pack_detector_data.py --out runs/device/detector_data.pkl --max-side 640 --quality 20
#   (36 MiB: with the tree's ~21 MiB it fits the 64 MiB a call may send; runs/ is ignored, so name it in carry)
# Then:  run(command="bash scripts/device_train_detector.sh MINUTES [--key=value ...]", carry=["runs/device"],
#            timeout_s=...)
#
# Trains checkpoints/detector_s_last.pt on for MINUTES with the thirteenth session's fine-tune recipe
# (DETECTOR_MODEL_CARD.md) on CUDA with bfloat16 autocast, data from the pack, then exports the ONNX file as
# the shipped one is exported. $OUT gets last.pt, detector.onnx, log.jsonl and train.log; measure the ONNX
# file here with benchmarks/detector_candidate.sh like any candidate. Extra --key=value arguments override the
# recipe (e.g. --batch_size=64 --lr=0.0006). Environment: DEVICE (default cuda), WORKERS (data workers, default
# 12), PACK (default runs/device/detector_data.pkl), PYTHON (default python3: on the lent machines the one that
# holds PyTorch), OUT (set by the device tool).
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${1:?MINUTES}; shift
OUT=${OUT:?OUT: the folder to write to}
PY=${PYTHON:-python3}
PACK=${PACK:-runs/device/detector_data.pkl}
[ -f "$PACK" ] || { echo "no pack at $PACK: build it with scripts/pack_detector_data.py and carry runs/device" >&2; exit 2; }
export PYTHONPATH=src
RUN=runs/device/run
rm -rf "$RUN"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
"$PY" -m platewise train detector --config configs/detector/cpu.toml --cache="$PACK" --device="${DEVICE:-cuda}" \
  --resume=checkpoints/detector_s_last.pt --restart_lr=true --run_dir="$RUN" --scene_synth_fraction=0.1 \
  --synth_fraction=0.35 --negative_fraction=0.15 --lr=0.0003 --warmup_steps=1 --plateau_patience=1000000 \
  --max_minutes="$MIN" --final_decay_fraction=0.5 --save_every=200 --threads=2 --workers="${WORKERS:-12}" "$@" \
  2>&1 | tee "$OUT/train.log"
"$PY" -m platewise export detector "$RUN/last.pt" --out "$OUT/detector.onnx" --score-threshold 0.35 --input-size 384x640
cp "$RUN/last.pt" "$RUN/log.jsonl" "$OUT/"
ls -la "$OUT"
