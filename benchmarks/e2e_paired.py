"""Two pipelines' end-to-end reads compared plate by plate: of the (plate, shift) pairs of two
``e2e_pads.py`` result files of the same split, how many only the first reads, how many only the second, and
the two-sided exact sign-test p-value of that split (how likely a split at least that uneven is if neither
pipeline reads better). The means of ``e2e_pads.py`` move by chance with a plate or two; this says whether a
difference is more than that. It decides nothing by itself.

    python benchmarks/e2e_paired.py benchmarks/results/e2e_pads_holdout_A.json \\
        benchmarks/results/e2e_pads_holdout_B.json [--tag T]

Writes ``benchmarks/results/e2e_paired[_T].json``.
"""

from __future__ import annotations

import argparse
import json
from math import comb
from pathlib import Path


def missed(result: dict[str, object]) -> dict[str, set[str]]:
    """Per shift, the texts of the plates not read (``"TEXT read ..."`` entries of ``misses``)."""
    pads = result["pads"]
    assert isinstance(pads, dict)
    return {k: {m.split(" read ")[0] for m in v["misses"]} for k, v in pads.items()}


def sign_test(only_a: int, only_b: int) -> float:
    """Two-sided exact binomial test of ``only_a`` against ``only_b`` at p = 1/2."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    return min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2**n)


def compare(a: dict[str, object], b: dict[str, object]) -> dict[str, object]:
    """``only_a`` / ``only_b`` (pairs read by one pipeline only, each listed as ``"shift:TEXT"``), their
    counts, the pairs both read or both missed, and the sign test's p-value."""
    ma, mb = missed(a), missed(b)
    if set(ma) != set(mb) or a.get("split") != b.get("split"):
        raise SystemExit("the two files must be e2e_pads.py results of the same split and shifts")
    pads = a["pads"]
    assert isinstance(pads, dict)
    only_a = sorted(f"{k}:{t}" for k in ma for t in mb[k] - ma[k])
    only_b = sorted(f"{k}:{t}" for k in ma for t in ma[k] - mb[k])
    both_missed = sum(len(ma[k] & mb[k]) for k in ma)
    pairs = sum(int(pads[k]["plates"]) for k in ma)
    return {
        "pairs": pairs,
        "read_by_both": pairs - both_missed - len(only_a) - len(only_b),
        "missed_by_both": both_missed,
        "only_a": len(only_a),
        "only_b": len(only_b),
        "sign_test_p": round(sign_test(len(only_a), len(only_b)), 4),
        "only_a_pairs": only_a,
        "only_b_pairs": only_b,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    result = {"benchmark": "e2e_paired", "a": str(args.a), "b": str(args.b)}
    result.update(compare(json.loads(args.a.read_text()), json.loads(args.b.read_text())))
    print(
        f"{result['pairs']} (plate, shift) pairs: only A reads {result['only_a']}, only B {result['only_b']}, "
        f"both {result['read_by_both']}, neither {result['missed_by_both']}; sign test p = {result['sign_test_p']}"
    )
    out = Path(__file__).parent / "results" / f"e2e_paired{'_' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
