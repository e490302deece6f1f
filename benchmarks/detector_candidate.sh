#!/usr/bin/env bash
# The two parts of a detector candidate's rule (src/platewise/weights/DETECTOR_SESSIONS.md), as the thirteenth and fourteenth
# sessions ran them; results in benchmarks/results/ with NAME as the tag.
#
# Usage:
#   benchmarks/detector_candidate.sh part1 NAME CHECKPOINT.pt|DETECTOR.onnx
#       export (384x640, score threshold 0.35) to runs/det-NAME/detector.onnx, refit the shipped verifier's
#       combination and thresholds for it (runs/v-NAME/verifier.onnx; REFIT=0: the shipped verifier as it is;
#       VERIFIER_FROM=F.onnx: start from that verifier instead of the shipped one),
#       choose the nested-box tie-break margin on the training side and write it into that verifier
#       (contain_suppress.py --choose-margin; MARGINS=0 skips it), then end to end averaged over shifts 0-7:
#       synthetic scenes (synthetic_e2e.py --pad K) and openalpr-dev's training side (e2e_pads.py --split train)
#   benchmarks/detector_candidate.sh part2 NAME
#       the hold-out: detection and corners (accuracy.sh detect corners), end to end over shifts
#       (e2e_pads.py --split holdout) and against the audited labels (label_audit.py)
# FLIP=mean|max: every step runs the detector with that test-time flip (PlateDetector(flip=...)).
# Each step uses one thread, so that it can run beside a training run. Needs the venv of ./scripts/test.
# The rules these parts serve: src/platewise/weights/DETECTOR_SESSIONS.md, "Fourteenth session" and "Fifteenth session".
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .venv/bin/activate ] && source .venv/bin/activate
export PYTHONPATH=src
part=${1:?part1 or part2}; N=${2:?NAME}
R=runs/det-$N; V=runs/v-$N
A=(--detector "$R/detector.onnx" --verifier "$V/verifier.onnx" --corner-net src/platewise/weights/corners.onnx)
[ -n "${FLIP:-}" ] && A+=(--flip "$FLIP")
case $part in
  part1)
    C=${3:?CHECKPOINT.pt or DETECTOR.onnx}
    mkdir -p "$R" "$V"
    if [[ $C == *.pt ]]; then
      platewise export detector "$C" --out "$R/detector.onnx" --score-threshold 0.35 --input-size 384x640
    else
      [[ $C -ef $R/detector.onnx ]] || cp "$C" "$R/detector.onnx"
    fi
    [[ ${VERIFIER_FROM:-} -ef $V/verifier.onnx ]] || cp "${VERIFIER_FROM:-src/platewise/weights/verifier.onnx}" "$V/verifier.onnx"
    if [[ ${REFIT:-1} != 0 ]]; then
      python -m platewise.detection.verifier_train --out "$V" --recalibrate --refit-combination \
        --detector "$R/detector.onnx" --threads 1 ${FLIP:+--flip "$FLIP"} > "$V/refit.log" 2>&1
      tail -1 "$V/refit.log"
    fi
    MARGINS=${MARGINS:-0,0.02,0.05,0.1,0.15,0.2,0.3}
    if [[ $MARGINS != 0 ]]; then
      python benchmarks/contain_suppress.py --thresholds 0.6 --margins "$MARGINS" --choose-margin \
        --write-margin "$V/verifier.onnx" "${A[@]}" --tag "margin_$N" --threads 1 > "$V/margin.log" 2>&1
      grep "chosen margin" "$V/margin.log"
    fi
    python benchmarks/e2e_pads.py --split train "${A[@]}" --tag "$N" --threads 1 > "$R/train.log" 2>&1 &
    for K in 0 1 2 3 4 5 6 7; do
      python benchmarks/synthetic_e2e.py --pad $K "${A[@]}" --tag "${N}_pad$K" --threads 1 > "$R/synth$K.log" 2>&1
    done
    wait
    python - "$N" <<'PY'
import json, sys
n = sys.argv[1]
s = [json.load(open(f"benchmarks/results/synthetic_e2e_{n}_pad{k}.json")) for k in range(8)]
r = [round(d["results"]["overall"]["read"] * d["results"]["overall"]["plates"]) for d in s]
print("synthetic plates read, shifts 0-7:", r, "mean", sum(r) / 8)
t = json.load(open(f"benchmarks/results/e2e_pads_train_{n}.json"))
print("training side, shifts 0-7:", [t["pads"][str(k)]["read"] for k in range(8)], "mean", t["mean_read"])
PY
    ;;
  part2)
    python benchmarks/e2e_pads.py --split holdout "${A[@]}" --tag "$N" --threads 1 > "$R/holdout.log" 2>&1 &
    DETECTOR=$R/detector.onnx VERIFIER=$V/verifier.onnx CORNER_NET=src/platewise/weights/corners.onnx TAG=$N \
      FLIP=${FLIP:-} PLATEWISE_THREADS=1 benchmarks/accuracy.sh detect corners
    python benchmarks/label_audit.py "${A[@]}" --tag "$N" > "$R/audit.log" 2>&1
    wait
    python - "$N" <<'PY'
import json, sys
n = sys.argv[1]
folders = ("openlpr-scenes", "ro-dashcam", "openalpr-dev")
rec = []
for f in folders:
    o = json.load(open(f"benchmarks/results/detect_eval_{f}_{n}.json"))["overall"]
    rec.append(o["recall50"])
    print(f, {k: o[k] for k in ("recall50", "precision50", "ap50", "recall70")})
print("mean recall", round(sum(rec) / 3, 4))
t = json.load(open(f"benchmarks/results/e2e_pads_holdout_{n}.json"))
print("hold-out end to end, shifts 0-7:", [t["pads"][str(k)]["read"] for k in range(8)], "mean", t["mean_read"])
a = json.load(open(f"benchmarks/results/detect_audited_{n}.json"))
print("audited AP50", {f: a[f]["audited"]["ap50"] for f in folders})
PY
    ;;
  *) echo "unknown part '$part': use part1 or part2" >&2; exit 2 ;;
esac
