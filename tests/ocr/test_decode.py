from __future__ import annotations

import numpy as np
import pytest

from platewise.ocr.decode import ctc_greedy, decode_ctc, decode_parallel, softmax
from platewise.plates import ALPHABET, MAX_LEN, Tokenizer

TOK = Tokenizer()


def _one_hot_logits(ids: list[int], steps: int, scale: float = 20.0) -> np.ndarray:
    x = np.zeros((1, steps, len(ALPHABET) + 1), dtype=np.float32)
    for t, c in enumerate(ids):
        x[0, t, c] = scale
    for t in range(len(ids), steps):
        x[0, t, 0] = scale
    return x


def test_parallel_decode_reads_text_and_skips_pad_positions() -> None:
    ids = list(TOK.encode("AB12")[:4])
    res = decode_parallel(_one_hot_logits(ids, MAX_LEN), ALPHABET)[0]
    assert res.text == "AB12"
    assert len(res.char_confidences) == 4
    assert all(c > 0.99 for c in res.char_confidences)
    assert 0.99 < res.confidence <= 1.0


def test_parallel_decode_top_candidates_are_sorted_and_start_with_best() -> None:
    logits = _one_hot_logits(list(TOK.encode("AB1")[:3]), MAX_LEN, scale=3.0)
    logits[0, 2, TOK.encode("I")[0]] = 2.5  # a close second reading at position 2
    res = decode_parallel(logits, ALPHABET, top_n=3)[0]
    texts = [t for t, _ in res.candidates]
    probs = [p for _, p in res.candidates]
    assert texts[0] == res.text == "AB1"
    assert "ABI" in texts
    assert probs == sorted(probs, reverse=True)
    assert len(res.candidates) == 3


def test_parallel_decode_merges_readings_that_differ_only_by_pad_position() -> None:
    logits = np.full((1, 3, len(ALPHABET) + 1), -20.0, dtype=np.float32)
    a = int(TOK.encode("A")[0])
    logits[0, 0, [a, 0]] = 0.0  # "A" or nothing
    logits[0, 1, [a, 0]] = 0.0
    logits[0, 2, 0] = 20.0
    cands = dict(decode_parallel(logits, ALPHABET, top_n=3)[0].candidates)
    assert cands["A"] == pytest.approx(0.5, abs=1e-3)  # "A_" and "_A" summed
    assert cands["AA"] == pytest.approx(0.25, abs=1e-3)


def test_parallel_decode_of_all_pad_is_empty_text() -> None:
    res = decode_parallel(_one_hot_logits([], MAX_LEN), ALPHABET)[0]
    assert res.text == ""
    assert res.char_confidences == ()


def test_top_n_zero_gives_no_candidates() -> None:
    assert decode_parallel(_one_hot_logits([1], MAX_LEN), ALPHABET, top_n=0)[0].candidates == ()


def test_ctc_greedy_collapses_repeats_and_drops_blanks() -> None:
    a, b = int(TOK.encode("A")[0]), int(TOK.encode("B")[0])
    probs = np.zeros((7, len(ALPHABET) + 1), dtype=np.float32)
    for t, c in enumerate([a, a, 0, a, b, b, 0]):
        probs[t, c] = 1.0
    ids, confs = ctc_greedy(probs)
    assert ids == [a, a, b]
    assert len(confs) == 3


def test_ctc_decode_best_candidate_matches_greedy_text_when_confident() -> None:
    a, one = int(TOK.encode("A")[0]), int(TOK.encode("1")[0])
    logits = _one_hot_logits([a, 0, one, one, 0], 24)
    res = decode_ctc(logits, ALPHABET, top_n=2)[0]
    assert res.text == "A1"
    assert res.candidates[0][0] == "A1"


def test_ctc_candidates_start_with_the_reading_and_share_its_confidence_scale():
    import numpy as np

    from platewise.ocr.decode import decode_ctc

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (8, 24, 12)).astype(np.float32)
    for pt in decode_ctc(logits, "ABCDEFGHIJK", top_n=3):
        assert pt.candidates[0] == (pt.text, pt.confidence)
        assert len({t for t, _ in pt.candidates}) == len(pt.candidates)
        assert all(0.0 <= c <= 1.0 for _, c in pt.candidates)


def _ctc_exact(probs: np.ndarray) -> dict[tuple[int, ...], float]:
    """Probability of every label sequence: the sum over all frame paths that collapse to it."""
    import itertools

    out: dict[tuple[int, ...], float] = {}
    t_len, c_len = probs.shape
    for path in itertools.product(range(c_len), repeat=t_len):
        p = float(np.prod([probs[t, c] for t, c in enumerate(path)]))
        seq = tuple(c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1]))
        out[seq] = out.get(seq, 0.0) + p
    return out


@pytest.mark.parametrize("seed", range(6))
def test_ctc_prefix_beam_equals_exhaustive_sum_when_nothing_is_pruned(seed: int) -> None:
    from platewise.ocr.decode import _ctc_prefix_beam

    rng = np.random.default_rng(seed)
    probs = softmax(rng.standard_normal((4, 3)) * 2)
    if seed % 2:  # a blank-only frame (exactly 1.0 blank) in the middle
        probs[1] = [1.0, 0.0, 0.0]
    exact = [kv for kv in sorted(_ctc_exact(probs).items(), key=lambda kv: -kv[1]) if kv[1] > 0]
    beam = _ctc_prefix_beam(probs, top_n=16, prune=0.0)  # width 32 >= the 31 possible prefixes
    beam = [kv for kv in beam if kv[1] > 0]  # prefixes reachable only through zero-probability paths
    assert len(beam) == min(16, len(exact))
    assert [k for k, _ in beam] == [k for k, _ in exact[: len(beam)]]
    np.testing.assert_allclose([v for _, v in beam], [v for _, v in exact[: len(beam)]], rtol=1e-5)


def _collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    out: list[int] = []
    prev = -1
    for c in path:
        if c != prev and c != 0:
            out.append(c)
        prev = c
    return tuple(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_ctc_log_likelihood_equals_the_sum_over_all_paths(seed: int) -> None:
    import itertools

    from platewise.ocr.decode import ctc_log_likelihood

    rng = np.random.default_rng(seed)
    t_len, c = 5, 4
    probs = rng.dirichlet(np.ones(c), size=(2, t_len))  # two views
    labels = [[1], [1, 1], [1, 2, 3], [], [2, 2, 2], [3, 1], [1, 2, 1, 2, 1, 2]]  # the last: too long for 5 frames
    exact = np.zeros((2, len(labels)))
    for path in itertools.product(range(c), repeat=t_len):
        p = np.prod(probs[:, np.arange(t_len), list(path)], axis=1)
        for j, lab in enumerate(labels):
            if _collapse(path) == tuple(lab):
                exact[:, j] += p
    got = ctc_log_likelihood(probs, labels)
    assert got.shape == (2, len(labels))
    np.testing.assert_allclose(np.exp(got), exact, rtol=1e-9, atol=1e-15)
    assert np.isneginf(got[:, -1]).all()
    assert ctc_log_likelihood(probs, []).shape == (2, 0)


def _frames(text_ids: list[int], sure: float, c: int, t_len: int = 8) -> np.ndarray:
    """Per-frame probabilities spelling ``text_ids`` (one frame each, blanks between), ``sure`` on each."""
    p = np.full((t_len, c), (1 - sure) / (c - 1))
    p[:, 0] = sure
    for k, i in enumerate(text_ids):
        p[1 + 2 * k] = (1 - sure) / (c - 1)
        p[1 + 2 * k, i] = sure
    return p


def test_fuse_views_picks_the_string_the_views_agree_on() -> None:
    from platewise.ocr.decode import decode_ctc, fuse_ctc_views

    alphabet = "ABCD0"
    c = len(alphabet) + 1
    b, d, zero = 2, 4, 5
    # the first character: view 0 says 0 (0.6) or D (0.4); views 1 and 2 say D (0.58) or 0 (0.42). The most
    # confident view reads 0BC; averaged over the three views D (0.52) beats 0 (0.48)
    views = []
    for p_zero, p_d in ((0.6, 0.4), (0.42, 0.58), (0.42, 0.58)):
        v = _frames([zero, b, 3], 0.97, c)
        v[1] = 1e-6
        v[1, zero], v[1, d] = p_zero, p_d
        views.append(v)
    probs = np.stack(views)
    texts = decode_ctc(np.log(probs), alphabet, top_n=3)
    assert [t.text for t in texts] == ["0BC", "DBC", "DBC"]
    assert max(texts, key=lambda t: t.confidence).text == "0BC"  # the most confident view alone says 0BC
    fused, src = fuse_ctc_views(texts, probs, alphabet, top_n=3)
    assert fused.text == "DBC" and src in (1, 2)
    assert fused.candidates[0] == ("DBC", fused.confidence)
    assert fused.candidates[1][0] == "0BC" and len(fused.candidates) == 3
    # the confidence is the mean of what each view says of the winner (view 0 has it among its candidates)
    stated = [next(cf for t, cf in pt.candidates if t == "DBC") for pt in texts]
    assert fused.confidence == pytest.approx(np.mean(stated))
    assert fused.char_confidences == texts[src].char_confidences
    # weights: view 0 counting as much as the other two together tips the mean back to 0BC (0.51 against 0.49)
    heavy, k = fuse_ctc_views(texts, probs, alphabet, top_n=3, weights=[2, 1, 1])
    assert (heavy.text, k) == ("0BC", 0)
    with pytest.raises(ValueError, match="weights"):
        fuse_ctc_views(texts, probs, alphabet, weights=[1, 1])
    # one view: its own reading
    alone, k = fuse_ctc_views(texts[:1], probs[:1], alphabet)
    assert (alone.text, k) == ("0BC", 0) and alone.confidence == pytest.approx(texts[0].confidence)


def test_fuse_views_without_any_candidate_returns_the_most_confident_view() -> None:
    from platewise.ocr.decode import fuse_ctc_views
    from platewise.types import PlateText

    texts = [PlateText("", 0.3, (), ()), PlateText("", 0.6, (), ())]
    pt, k = fuse_ctc_views(texts, np.full((2, 4, 3), 1 / 3), "AB")
    assert k == 1 and pt is texts[1]
    with pytest.raises(ValueError, match="at least one view"):
        fuse_ctc_views([], np.zeros((0, 4, 3)), "AB")


def test_many_plates_fused_at_once_match_one_at_a_time() -> None:
    from platewise.ocr.decode import (
        ctc_log_likelihood,
        ctc_log_likelihood_groups,
        decode_ctc,
        fuse_ctc_views,
        fuse_ctc_views_many,
    )

    rng = np.random.default_rng(5)
    alphabet = "ABCD0"
    plates = []
    for n_views in (1, 3, 7, 2):  # plates seen in different numbers of views
        probs = rng.dirichlet(np.full(len(alphabet) + 1, 0.3), size=(n_views, 12))
        texts = decode_ctc(np.log(probs), alphabet, top_n=3)
        weights = None if n_views != 7 else [1, 1, 1, 0.75, 0.75, 0.75, 0.75]
        plates.append((texts, probs, weights))
    many = fuse_ctc_views_many(plates, alphabet, top_n=3)
    for (texts, probs, weights), got in zip(plates, many, strict=True):
        want = fuse_ctc_views(texts, probs, alphabet, 3, weights)
        assert got[1] == want[1] and got[0].text == want[0].text
        assert got[0].confidence == pytest.approx(want[0].confidence)
    labels = [[[1, 2], [3]], [], [[5, 5, 1]]]
    probs3 = [rng.dirichlet(np.ones(6), size=(v, 9)) for v in (2, 1, 3)]
    groups = ctc_log_likelihood_groups(probs3, labels)
    assert [g.shape for g in groups] == [(2, 2), (1, 0), (3, 1)]
    for g, p, lab in zip(groups, probs3, labels, strict=True):
        if lab:
            np.testing.assert_allclose(g, ctc_log_likelihood(p, lab), rtol=1e-12)
