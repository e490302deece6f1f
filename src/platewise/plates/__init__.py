"""Plate text rules: alphabet, tokenizer, region formats, normalization. No ML, no torch."""

from platewise.plates.alphabet import ALPHABET, MAX_LEN, PAD_ID, Tokenizer
from platewise.plates.formats import FORMATS, PlateFormat, formats_for, guess_region, regions
from platewise.plates.normalize import (
    edit_distance,
    fold_confusions,
    normalize,
    plates_match,
    weighted_edit_distance,
)

__all__ = [
    "ALPHABET",
    "FORMATS",
    "MAX_LEN",
    "PAD_ID",
    "PlateFormat",
    "Tokenizer",
    "edit_distance",
    "fold_confusions",
    "formats_for",
    "guess_region",
    "normalize",
    "plates_match",
    "regions",
    "weighted_edit_distance",
]
