from __future__ import annotations

import numpy as np
import pytest

from platewise.plates import (
    ALPHABET,
    FORMATS,
    Tokenizer,
    edit_distance,
    fold_confusions,
    formats_for,
    guess_region,
    normalize,
    plates_match,
    weighted_edit_distance,
)
from platewise.plates.alphabet import CN_PROVINCES
from platewise.plates.formats import PlateFormat


def test_alphabet_has_31_provinces_and_special_characters():
    assert len(CN_PROVINCES) == 31
    for c in "学警挂港澳使领":
        assert c in ALPHABET


def test_tokenizer_roundtrips_latin_and_chinese_plates():
    tok = Tokenizer()
    for text in ["AB123CD", "京PL3N67", "粤B12345学", "7"]:
        ids = tok.encode(text)
        assert ids.shape == (tok.max_len,) and ids.dtype == np.int64
        assert tok.decode(ids) == text


def test_tokenizer_rejects_unknown_character_and_too_long_text():
    tok = Tokenizer()
    with pytest.raises(ValueError, match="not in the plate alphabet"):
        tok.encode("AB#1")
    with pytest.raises(ValueError, match="longer than"):
        tok.encode("A" * (tok.max_len + 1))


def test_normalize_drops_separators_and_upper_cases():
    assert normalize(" ab-12 3.c ") == "AB123C"
    assert normalize("京A·12345") == "京A12345"
    assert normalize("ＡＢ１２") == "AB12"  # full-width forms


def test_confusable_substitution_costs_less_than_other_substitution():
    assert weighted_edit_distance("7ABC123", "7A8C123") == 0.5
    assert weighted_edit_distance("7ABC123", "7AXC123") == 1.0
    assert edit_distance("7ABC123", "7A8C123") == 1


def test_fold_confusions_maps_groups_to_one_representative():
    assert fold_confusions("OB1IS") == fold_confusions("08LL5")


def test_plates_match_exact_by_default_and_confusion_aware_with_distance():
    assert plates_match("ab-123", "AB123")
    assert not plates_match("7ABC123", "7A8C123")
    assert plates_match("7ABC123", "7A8C123", max_distance=0.5)


@pytest.mark.parametrize(
    ("text", "region"),
    [("ABC1D23", "br"), ("AB123CD", "eu-fr"), ("京PL3N67", "cn"), ("粤BD12345", "cn"), ("1234ABC", "eu-es")],
)
def test_guess_region_prefers_the_requested_region(text, region):
    assert guess_region(text, prefer=region.split("-")[0]) == region


def test_every_required_region_has_formats():
    for region in [
        "us",
        "eu",
        "eu-de",
        "eu-fr",
        "eu-it",
        "eu-es",
        "eu-nl",
        "eu-uk",
        "eu-pl",
        "eu-ro",
        "br",
        "ar",
        "cn",
    ]:
        assert formats_for(region)
    with pytest.raises(ValueError, match="unknown region"):
        formats_for("xx")


def test_cn_green_plates_have_eight_characters_and_blue_seven():
    green = next(f for f in FORMATS if f.region == "cn" and f.name == "green")
    blue = next(f for f in FORMATS if f.region == "cn" and f.name == "blue")
    assert green.lengths == (8, 8) and blue.lengths == (7, 7)
    assert green.matches("粤BD12345") and not blue.matches("粤BD12345")


def test_fit_to_formats_swaps_look_alikes_where_the_format_needs_them():
    from platewise.plates.formats import fit_to_formats, formats_for

    uk = formats_for("eu-uk")
    assert fit_to_formats("OY66UOP", uk) == "OY66UOP"  # already fits
    assert fit_to_formats("0Y66U0P", uk) == "OY66UOP"  # 0 -> O where a letter must be
    assert fit_to_formats("KTI3CAX", uk) == "KT13CAX"  # I -> 1 where a digit must be
    assert fit_to_formats("KT13CA", uk) is None  # wrong length
    assert fit_to_formats("KT13CAX", formats_for("cn")) is None  # no province
    # the fewest swaps win; a tie is ambiguous
    assert fit_to_formats("YSI6UAD", formats_for("eu")) == "YS16UAD"  # UK (1 swap) over Romania (2)
    assert fit_to_formats("B0", (PlateFormat("x", "a", ("LL", "DD")),)) is None  # BO and 80: 1 swap each
