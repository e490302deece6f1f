"""Weight averaging ("model soup") of reader or detector checkpoints fine-tuned from the same starting point.

    python -m platewise.training.soup runs/a/last.pt runs/b/last.pt --out soup.pt
    platewise export ocr soup.pt --out ocr.onnx          # or: platewise export detector soup.pt --out det.onnx

Runs continued from one checkpoint with different data or augmentation stay in one basin of the loss, and
the mean of their weights often reads better than either (Wortsman et al. 2022, "Model soups"). The output is
a checkpoint of the first input with the averaged weights (``model``, and ``ema`` where every input has one;
non-float tensors, e.g. counters, from the first), the largest step of the inputs, and no optimizer state (a
run resumed from it starts a fresh AdamW); export and resume it like any checkpoint. The models must match:
the same ``model_config`` (detector checkpoints, whose run configs differ) or ``config`` (reader checkpoints).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["average_checkpoints", "main"]


def average_checkpoints(paths: list[Path]) -> dict[str, Any]:
    """The averaged checkpoint (see the module doc). Raises ValueError when the models do not match."""
    import torch

    if len(paths) < 2:
        raise ValueError("give at least two checkpoints to average")
    cks = [torch.load(p, map_location="cpu", weights_only=False) for p in paths]
    first = cks[0]
    ident = "model_config" if "model_config" in first else "config"
    for p, ck in zip(paths[1:], cks[1:], strict=True):
        if ck.get(ident) != first.get(ident) or set(ck["model"]) != set(first["model"]):
            raise ValueError(f"{p} holds a different model than {paths[0]}")

    def mean(key: str) -> dict[str, Any]:
        return {
            k: (sum(ck[key][k].double() for ck in cks) / len(cks)).to(v.dtype) if v.is_floating_point() else v
            for k, v in first[key].items()
        }

    out = {k: v for k, v in first.items() if k not in ("model", "ema", "optimizer", "metrics")}
    out["model"] = mean("model")
    if all("ema" in ck for ck in cks):
        out["ema"] = mean("ema")
    if "state" in first:  # reader checkpoints
        out["state"] = dict(first["state"], step=max(int(ck["state"]["step"]) for ck in cks))
    else:
        out["step"] = max(int(ck.get("step", 0)) for ck in cks)
    out["soup_of"] = [str(p) for p in paths]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m platewise.training.soup", description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoints", nargs="+", type=Path, help="reader or detector checkpoints (.pt) of one model")
    ap.add_argument("--out", type=Path, required=True, help="where to write the averaged checkpoint")
    args = ap.parse_args(argv)
    import torch

    missing = [str(p) for p in args.checkpoints if not p.is_file()]
    if missing:
        print(f"platewise: checkpoint not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        ck = average_checkpoints(args.checkpoints)
    except ValueError as e:
        print(f"platewise: {e}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ck, args.out)
    step = ck["state"]["step"] if "state" in ck else ck["step"]
    print(f"wrote {args.out} (mean of {len(args.checkpoints)} checkpoints, step {step})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
