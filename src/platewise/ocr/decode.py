"""Network output -> plate text, per-character confidences and top-N candidates (numpy only).

Two head types share one result shape:

- ``parallel``: logits (N, max_len, C), one distribution per character position; class 0 = no character.
  Positions are independent, so the N best strings come from a beam over the positions (exact for the top-1,
  and for the top-N as long as the beam is at least N wide); readings that differ only by where the
  "no character" classes sit are the same text and their probabilities are summed.
- ``ctc``: logits (N, T, C) over T strips, class 0 = blank; best path (collapse repeats, drop blanks) for the
  text, CTC prefix beam search for the candidates.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from platewise.types import PlateText

__all__ = ["ctc_greedy", "decode_ctc", "decode_logits", "decode_parallel", "softmax"]


def softmax(logits: npt.NDArray[np.floating], axis: int = -1) -> npt.NDArray[np.float32]:
    x = logits.astype(np.float32, copy=False)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return np.asarray(e / e.sum(axis=axis, keepdims=True), dtype=np.float32)


def _topn_parallel(probs: npt.NDArray[np.float32], alphabet: str, top_n: int) -> list[tuple[str, float]]:
    """probs (L, C) -> up to ``top_n`` (text, probability), best first."""
    width = max(2 * top_n, 4)
    beams: list[tuple[tuple[int, ...], float]] = [((), 1.0)]
    for pos in range(probs.shape[0]):
        p = probs[pos]
        k = min(width, p.shape[0])
        cand = np.argpartition(-p, k - 1)[:k]
        beams = sorted(
            ((ids + (int(c),), score * float(p[c])) for ids, score in beams for c in cand),
            key=lambda b: -b[1],
        )[:width]
    merged: dict[str, float] = {}
    for ids, score in beams:
        text = "".join(alphabet[i - 1] for i in ids if i > 0)
        merged[text] = merged.get(text, 0.0) + score
    return sorted(merged.items(), key=lambda t: -t[1])[:top_n]


def decode_parallel(logits: npt.NDArray[np.floating], alphabet: str, top_n: int = 3) -> list[PlateText]:
    """Parallel-head logits (N, max_len, C) -> one :class:`PlateText` per row.

    ``confidence`` is the probability of the best reading: the product of the per-position maxima, the
    "no character" positions included (a doubtful extra or missing character lowers it).
    """
    probs = softmax(logits)
    best = probs.argmax(-1)  # (N, L)
    best_p = np.take_along_axis(probs, best[..., None], -1)[..., 0]  # (N, L)
    out = []
    for i in range(probs.shape[0]):
        ids, ps = best[i], best_p[i]
        text = "".join(alphabet[c - 1] for c in ids if c > 0)
        chars = tuple(float(p) for c, p in zip(ids, ps, strict=False) if c > 0)
        conf = float(np.prod(ps, dtype=np.float64))
        cands = tuple(_topn_parallel(probs[i], alphabet, top_n)) if top_n > 0 else ()
        out.append(PlateText(text=text, confidence=conf, char_confidences=chars, candidates=cands))
    return out


def ctc_greedy(probs: npt.NDArray[np.float32]) -> tuple[list[int], list[float]]:
    """Best path of one (T, C) CTC distribution: the ids (blank 0 and repeats collapsed) and, per id, the
    highest probability over the frames that produced it."""
    path = probs.argmax(-1)
    ids: list[int] = []
    confs: list[float] = []
    prev = 0
    for t, c in enumerate(path):
        c = int(c)
        if c != 0 and c == prev:
            confs[-1] = max(confs[-1], float(probs[t, c]))
        elif c != 0:
            ids.append(c)
            confs.append(float(probs[t, c]))
        prev = c
    return ids, confs


def _ctc_prefix_beam(
    probs: npt.NDArray[np.float32], top_n: int, prune: float = 0.01
) -> list[tuple[tuple[int, ...], float]]:
    """CTC prefix beam search over (T, C) probabilities -> [(ids, probability)], best first.

    Characters whose probability in a frame is at most ``prune`` are not extended with in that frame; a frame
    with none left only ends every prefix in a blank (runs of such frames are applied at once).
    """
    width = max(2 * top_n, 4)
    rows: list[list[float]] = probs.tolist()  # plain floats: indexing numpy scalars in the loop is slower
    live_t, live_c = np.nonzero(probs[:, 1:] > prune)
    chars_at: list[list[int]] = [[] for _ in rows]
    for t, c in zip(live_t.tolist(), live_c.tolist(), strict=True):
        chars_at[t].append(c + 1)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}  # prefix -> (p_blank, p_nonblank)
    blank_run, pending = 1.0, False  # product of the blank probabilities of blank-only frames not applied yet
    for p, chars in zip(rows, chars_at, strict=True):
        if not chars:
            blank_run, pending = blank_run * p[0], True
            continue
        if pending:
            beams = {k: ((pb + pnb) * blank_run, 0.0) for k, (pb, pnb) in beams.items()}
            blank_run, pending = 1.0, False
        p0 = p[0]
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            tot = pb + pnb
            e = nxt.get(prefix)
            if e is None:
                e = nxt[prefix] = [0.0, 0.0]
            e[0] += tot * p0
            last = prefix[-1] if prefix else -1
            if prefix:
                e[1] += pnb * p[last]
            for c in chars:
                ext = prefix + (c,)
                e2 = nxt.get(ext)
                if e2 is None:
                    e2 = nxt[ext] = [0.0, 0.0]
                e2[1] += (pb if c == last else tot) * p[c]
        kept = sorted(nxt.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:width] if len(nxt) > width else nxt.items()
        beams = {k: (v[0], v[1]) for k, v in kept}
    if pending:
        beams = {k: ((pb + pnb) * blank_run, 0.0) for k, (pb, pnb) in beams.items()}
    return sorted(((k, v[0] + v[1]) for k, v in beams.items()), key=lambda kv: -kv[1])[:top_n]


def decode_ctc(logits: npt.NDArray[np.floating], alphabet: str, top_n: int = 3) -> list[PlateText]:
    """CTC logits (N, T, C) -> one :class:`PlateText` per row; ``confidence`` = product of the char confidences."""
    probs = softmax(logits)
    out = []
    for i in range(probs.shape[0]):
        ids, confs = ctc_greedy(probs[i])
        text = "".join(alphabet[c - 1] for c in ids)
        conf = float(np.prod(confs, dtype=np.float64))
        cands: tuple[tuple[str, float], ...] = ()
        if top_n > 0:
            # The reading is the best path; the alternatives come from a prefix beam search. To keep one scale,
            # an alternative's confidence is the reading's, times its beam probability over the reading's.
            beam = _ctc_prefix_beam(probs[i], top_n + 1)
            ref = next((v for k, v in beam if list(k) == ids), beam[0][1] if beam else 0.0)
            alts = [("".join(alphabet[c - 1] for c in k), v) for k, v in beam if list(k) != ids]
            scaled = [(t, min(1.0, conf * v / ref) if ref > 0 else 0.0) for t, v in alts]
            cands = ((text, conf), *sorted(scaled, key=lambda tv: -tv[1])[: top_n - 1])
        out.append(PlateText(text, conf, tuple(confs), cands))
    return out


def decode_logits(logits: npt.NDArray[np.floating], alphabet: str, head: str, top_n: int = 3) -> list[PlateText]:
    """Dispatches on the head type stored in the model metadata (``"parallel"`` or ``"ctc"``)."""
    if head == "ctc":
        return decode_ctc(logits, alphabet, top_n)
    return decode_parallel(logits, alphabet, top_n)
