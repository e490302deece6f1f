#!/usr/bin/env bash
# Hold-out accuracy of the shipped models (or of other ONNX files), written to benchmarks/results/.
#
# Usage: benchmarks/accuracy.sh [ocr] [detect] [corners] [e2e]        (no argument: all four)
# Environment: READER=file.onnx DETECTOR=file.onnx (default: the shipped weights), VERIFIER=on|off|file.onnx
# (the detector's plate verifier; default: the shipped one with the shipped detector), CORNER_NET=on|off|file.onnx
# (the detector's corner network; same default), ZONE="x,y x,y ..." (detect only: a detection zone, e.g. "0,0 1,1"
# for whole images seen at an input fitted to their shape), FLIP=mean|max (detect and corners: the test-time flip), TAG=name (suffix of the
# result files, e.g. TAG=int8), DATA=../shared/data, PLATEWISE_THREADS (ONNX Runtime threads).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=benchmarks/results
SUFFIX=${TAG:+_$TAG}
PW=${PW:-platewise}
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(ocr detect corners e2e)
reader=(); [ -n "${READER:-}" ] && reader=(--model "$READER")
detector=(); [ -n "${DETECTOR:-}" ] && detector=(--model "$DETECTOR")
[ -n "${VERIFIER:-}" ] && detector+=(--verifier "$VERIFIER")
[ -n "${CORNER_NET:-}" ] && detector+=(--corner-net "$CORNER_NET")
mkdir -p "$OUT"
# show FILE KEY [KEY ...]: the value of KEY in a result file, or a dict of the KEYs
show() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); k=sys.argv[2:]; print(d[k[0]] if len(k) == 1 else {x: d[x] for x in k})" "$@"; }
for part in "${parts[@]}"; do
  case $part in
    ocr)
      for f in openalpr-crops br-crops cn-crops openalpr-dev; do
        $PW eval ocr --labels "$DATA/$f/labels.csv" --split holdout --json "${reader[@]}" > "$OUT/ocr_eval_$f$SUFFIX.json"
        echo "ocr $f: $(show "$OUT/ocr_eval_$f$SUFFIX.json" overall)"
      done ;;
    detect)
      for f in openlpr-scenes ro-dashcam openalpr-dev; do
        $PW eval detect --labels "$DATA/$f/labels.csv" --holdout --json "${detector[@]}" ${ZONE:+--zone "$ZONE"} ${FLIP:+--flip "$FLIP"} > "$OUT/detect_eval_$f$SUFFIX.json"
        echo "detect $f: $(show "$OUT/detect_eval_$f$SUFFIX.json" overall)"
      done ;;
    corners)
      for src in builtin scenes; do
        $PW eval detect --synthetic 300 --synth-source $src --root "$DATA" --json "${detector[@]}" ${FLIP:+--flip "$FLIP"} > "$OUT/detect_corners_$src$SUFFIX.json"
        echo "corners $src: $(show "$OUT/detect_corners_$src$SUFFIX.json" mean_corner_error_per_width)"
      done ;;
    e2e)
      e2e=(); [ -n "${READER:-}" ] && e2e+=(--reader "$READER"); [ -n "${DETECTOR:-}" ] && e2e+=(--detector "$DETECTOR")
      [ -n "${VERIFIER:-}" ] && e2e+=(--verifier "$VERIFIER"); [ -n "${CORNER_NET:-}" ] && e2e+=(--corner-net "$CORNER_NET")
      $PW eval e2e --labels "$DATA/openalpr-dev/labels.csv" --split holdout --json "${e2e[@]}" > "$OUT/e2e_eval_openalpr-dev_holdout$SUFFIX.json"
      echo "e2e: $(show "$OUT/e2e_eval_openalpr-dev_holdout$SUFFIX.json" overall regions)" ;;
    *) echo "unknown part $part (ocr, detect, corners, e2e)" >&2; exit 2 ;;
  esac
done
