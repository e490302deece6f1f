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

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from platewise.types import PlateText

__all__ = [
    "ctc_greedy",
    "ctc_log_likelihood",
    "ctc_log_likelihood_groups",
    "decode_ctc",
    "decode_logits",
    "decode_parallel",
    "fuse_ctc_views",
    "fuse_ctc_views_many",
    "softmax",
]


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


def ctc_log_likelihood(probs: npt.NDArray[np.floating], labels: Sequence[Sequence[int]]) -> npt.NDArray[np.float64]:
    """log P(label | view) under CTC, for every view and label: the sum over all frame paths that collapse to
    the label (forward algorithm, rescaled each frame), not only the best path.

    Args:
        probs: (V, T, C) per-frame class probabilities of V views (class 0 = blank).
        labels: K label id sequences (ids 1..C-1).

    Returns:
        (V, K) log-likelihoods (-inf for a label the frames cannot produce, e.g. longer than they allow).
    """
    p = np.asarray(probs, np.float64)
    if len(labels) == 0:
        return np.zeros((p.shape[0], 0), np.float64)
    return ctc_log_likelihood_groups([p], [labels])[0]


def ctc_log_likelihood_groups(
    probs: Sequence[npt.NDArray[np.floating]], labels: Sequence[Sequence[Sequence[int]]]
) -> list[npt.NDArray[np.float64]]:
    """:func:`ctc_log_likelihood` for G groups at once (each its own views and labels, e.g. one plate each),
    in one vectorised pass: ``probs[g]`` (V_g, T, C) and ``labels[g]`` (K_g sequences) give a (V_g, K_g)
    array. Groups without labels give (V_g, 0)."""
    g_n = len(probs)
    if g_n == 0:
        return []
    ps = [np.asarray(p, np.float64) for p in probs]
    t_len, c_n = ps[0].shape[1:]
    v_max = max(p.shape[0] for p in ps)
    k_max = max(1, max(len(lab) for lab in labels))
    l_max = max((len(x) for lab in labels for x in lab), default=0)
    s_len = 2 * l_max + 1
    pp = np.zeros((g_n, v_max, t_len, c_n))
    ext = np.zeros((g_n, k_max, s_len), np.int64)  # blank, l1, blank, l2, ..., blank
    lens = np.zeros((g_n, k_max), np.int64)
    for g, (p, lab) in enumerate(zip(ps, labels, strict=True)):
        pp[g, : p.shape[0]] = p
        for k, x in enumerate(lab):
            ext[g, k, 1 : 2 * len(x) : 2] = x
            lens[g, k] = len(x)
    valid = np.arange(s_len)[None, None, :] < (2 * lens + 1)[:, :, None]  # (G, K, S)
    skip = np.zeros((g_n, k_max, s_len), bool)  # s may be reached from s-2: a character unlike the one before
    skip[:, :, 2:] = (ext[:, :, 2:] != 0) & (ext[:, :, 2:] != ext[:, :, :-2])
    # emit[g, v, t, k, s] = pp[g, v, t, ext[g, k, s]]
    gi = np.arange(g_n)[:, None, None, None, None]
    vi = np.arange(v_max)[None, :, None, None, None]
    ti = np.arange(t_len)[None, None, :, None, None]
    emit = pp[gi, vi, ti, ext[:, None, None]] * valid[:, None, None]
    # the forward pass in probability space, rescaled every frame (the scales' logs are summed): a few
    # multiply-adds per frame instead of log-sum-exps
    alpha = np.zeros((g_n, v_max, k_max, s_len))
    alpha[..., 0] = emit[:, :, 0, :, 0]
    if s_len > 1:
        alpha[..., 1] = emit[:, :, 0, :, 1]
    skip_f = skip[:, None, :, 2:].astype(np.float64)
    log_scale = np.zeros((g_n, v_max, k_max))
    for t in range(1, t_len):
        nxt = alpha.copy()
        nxt[..., 1:] += alpha[..., :-1]
        nxt[..., 2:] += alpha[..., :-2] * skip_f
        alpha = nxt * emit[:, :, t]
        scale = alpha.max(-1)
        scale[scale <= 0] = 1.0
        alpha /= scale[..., None]
        log_scale += np.log(scale)
    last = (2 * lens)[:, None, :, None]  # the final blank; the final character is one before it
    end = np.take_along_axis(alpha, last, -1)[..., 0]
    before = np.take_along_axis(alpha, np.maximum(last - 1, 0), -1)[..., 0]
    end = end + np.where((lens > 0)[:, None, :], before, 0.0)
    with np.errstate(divide="ignore"):
        ll = np.log(end) + log_scale
    return [np.asarray(ll[g, : ps[g].shape[0], : len(labels[g])], np.float64) for g in range(g_n)]


def _stated_confidence(text: str, pt: PlateText) -> float | None:
    """The confidence ``pt`` gives ``text``: its reading's, or that of one of its candidates."""
    if text == pt.text:
        return pt.confidence
    return next((c for t, c in pt.candidates if t == text), None)


def fuse_ctc_views(
    texts: Sequence[PlateText],
    probs: npt.NDArray[np.floating],
    alphabet: str,
    top_n: int = 3,
    weights: Sequence[float] | None = None,
) -> tuple[PlateText, int]:
    """One reading of a plate seen in several views (crops of the same plate, e.g. straightened two ways and
    as its box), by averaging the views' CTC posteriors: each candidate string of any view (its reading and
    top-N alternatives) is scored by its mean CTC probability over the views (:func:`ctc_log_likelihood`),
    so a string all views find likely beats one a single view is sure of.

    Args:
        texts: the decoded reading of each view.
        probs: (V, T, C) the views' per-frame probabilities.
        weights: one per view (None = all equal): the means below are weighted means.

    Returns:
        (the fused reading, index of the view most confident of it). The reading's confidence is the mean over
        the views of the confidence each gives the winning string (its reading's, or its candidate's; 0 when
        not among its candidates), so views that disagree lower it; the per-character confidences are those
        of the most confident view (spread evenly from a candidate's confidence when it is not that view's
        reading). The candidates are ranked by the fused score and scaled to the reading's confidence, as
        :func:`decode_ctc` does.
    """
    return fuse_ctc_views_many([(texts, probs, weights)], alphabet, top_n)[0]


def fuse_ctc_views_many(
    plates: Sequence[tuple[Sequence[PlateText], npt.NDArray[np.floating], Sequence[float] | None]],
    alphabet: str,
    top_n: int = 3,
) -> list[tuple[PlateText, int]]:
    """:func:`fuse_ctc_views` for many plates, ``(texts, probs, weights)`` each, with one vectorised
    likelihood pass (:func:`ctc_log_likelihood_groups`); the same results."""
    index = {ch: i + 1 for i, ch in enumerate(alphabet)}
    norm: list[npt.NDArray[np.float64]] = []
    cands: list[list[str]] = []
    for texts, _, weights in plates:
        if not texts:
            raise ValueError("fuse_ctc_views needs at least one view")
        w = np.ones(len(texts)) if weights is None else np.asarray(weights, np.float64)
        if w.shape != (len(texts),) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights: one non-negative weight per view, not all 0 (got {weights!r})")
        norm.append(w / w.sum())
        mine: list[str] = []
        for pt in texts:
            for t in (pt.text, *(c for c, _ in pt.candidates)):
                if t and t not in mine and all(ch in index for ch in t):
                    mine.append(t)
        cands.append(mine)
    lls = ctc_log_likelihood_groups(
        [np.asarray(pr)[: len(tx)] for tx, pr, _ in plates], [[[index[ch] for ch in t] for t in c] for c in cands]
    )
    out: list[tuple[PlateText, int]] = []
    for (texts, _, _), w, mine, ll in zip(plates, norm, cands, lls, strict=True):
        if not mine:
            best_view = max(range(len(texts)), key=lambda i: texts[i].confidence)
            out.append((texts[best_view], best_view))
            continue
        with np.errstate(divide="ignore"):
            score = np.logaddexp.reduce(ll + np.log(w)[:, None], axis=0)  # log of the (weighted) mean probability
        order = np.argsort(-score, kind="stable")
        best = mine[int(order[0])]
        stated = [_stated_confidence(best, pt) or 0.0 for pt in texts]
        src = int(np.argmax(stated))  # the first of equals
        conf = float(np.dot(w, stated))
        pt = texts[src]
        chars = pt.char_confidences if pt.text == best else (stated[src] ** (1.0 / len(best)),) * len(best)
        alts = [
            (mine[int(j)], min(1.0, conf * float(np.exp(score[j] - score[order[0]]))))
            for j in order[1 : max(1, top_n)]
            if np.isfinite(score[j])
        ]
        out.append((PlateText(best, conf, tuple(chars), ((best, conf), *alts)), src))
    return out
