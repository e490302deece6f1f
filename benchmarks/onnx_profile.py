"""Where an ONNX file's time goes in ONNX Runtime, by operator type (its profiler), for one or more files.

    PYTHONPATH=src python benchmarks/onnx_profile.py OLD.onnx src/platewise/weights/detector.onnx --tag s21

Each file runs on random input of its metadata's input size (batch ``--batch``, 2 threads, threads spinning
during a run as the runtime's default), warm-up runs first, then ``--runs`` profiled runs. Reports each
operator type's share of the summed kernel time and its nodes per run. ``ReorderInput`` / ``ReorderOutput`` are
the layout conversions ONNX Runtime inserts around nodes its blocked CPU layout (NCHWc) lacks. Writes
``benchmarks/results/onnx_profile_<tag>.json``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort


def profile(path: str, batch: int, runs: int, warmup: int) -> dict[str, object]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1")
    opts.add_session_config_entry("session.force_spinning_stop", "1")
    with tempfile.TemporaryDirectory() as tmp:
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(tmp, "prof")
        sess = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
        meta = json.loads(sess.get_modelmeta().custom_metadata_map.get("platewise", "{}"))
        inp = sess.get_inputs()[0]
        h, w = meta.get("input_size", [d if isinstance(d, int) else 64 for d in inp.shape[2:]])
        x = np.random.default_rng(0).standard_normal((batch, 3, int(h), int(w))).astype(np.float32)
        for _ in range(warmup + runs):
            sess.run(None, {inp.name: x})
        events = json.loads(Path(sess.end_profiling()).read_text(encoding="utf-8"))
    times: collections.Counter[str] = collections.Counter()
    nodes: collections.Counter[str] = collections.Counter()
    run_ms = []
    for e in events:
        if e.get("cat") == "Session" and e.get("name") == "model_run":
            run_ms.append(e["dur"] / 1000)
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            times[e["args"]["op_name"]] += e["dur"]
            nodes[e["args"]["op_name"]] += 1
    total = sum(times.values())
    n_runs = warmup + runs
    return {
        "file": path,
        "input": [batch, 3, int(h), int(w)],
        "median_run_ms_profiled_runs": round(float(np.median(run_ms[warmup:])), 2) if run_ms else None,
        "share_of_kernel_time": {op: round(t / total, 4) for op, t in times.most_common()},
        "nodes_per_run": {op: nodes[op] // n_runs for op, _ in times.most_common()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="ONNX files")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--tag", default="latest")
    args = ap.parse_args()
    result = {
        "benchmark": "onnx_profile",
        "onnxruntime": ort.__version__,
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "profiles": [profile(m, args.batch, args.runs, args.warmup) for m in args.models],
    }
    out = Path(__file__).parent / "results" / f"onnx_profile_{args.tag}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    for p in result["profiles"]:  # type: ignore[attr-defined]
        shares = p["share_of_kernel_time"]
        layout = shares.get("ReorderInput", 0) + shares.get("ReorderOutput", 0)
        mul = shares.get("Mul", 0)
        print(f"{p['file']}: {p['median_run_ms_profiled_runs']} ms, layout conversions {layout:.1%}, Mul {mul:.1%}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
