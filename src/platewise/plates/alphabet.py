"""The plate alphabet and the one tokenizer (text <-> ids) used everywhere.

Id 0 is the padding token (also "no character at this position" for the parallel decoder);
ids 1.. are the characters of :data:`ALPHABET` in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALPHABET",
    "CN_PROVINCES",
    "CN_SPECIAL",
    "DIGITS",
    "LETTERS",
    "MAX_LEN",
    "PAD",
    "PAD_ID",
    "Tokenizer",
]

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
"""The 31 province-level abbreviations on mainland Chinese plates."""
CN_SPECIAL = "学警挂港澳使领试超临"
"""Special characters: driving school, police, trailer, Hong Kong, Macau, embassy, consulate, test, ..."""
ALPHABET = DIGITS + LETTERS + CN_PROVINCES + CN_SPECIAL
PAD = "_"
PAD_ID = 0
MAX_LEN = 10
"""Longest plate text the readers are built for (Chinese new-energy plates have 8)."""

assert len(CN_PROVINCES) == 31 and len(set(ALPHABET)) == len(ALPHABET)


class Tokenizer:
    """Maps plate text to fixed-length id arrays and back.

    Args:
        alphabet: the characters, in id order (id = index + 1).
        max_len: length of the encoded arrays; texts are padded with ``PAD_ID``.
    """

    def __init__(self, alphabet: str = ALPHABET, max_len: int = MAX_LEN) -> None:
        if PAD in alphabet:
            raise ValueError(f"the alphabet must not contain the pad character {PAD!r}")
        self.alphabet = alphabet
        self.max_len = max_len
        self._index = {c: i + 1 for i, c in enumerate(alphabet)}

    @property
    def num_classes(self) -> int:
        """Number of output classes including the pad class."""
        return len(self.alphabet) + 1

    def can_encode(self, text: str) -> bool:
        return len(text) <= self.max_len and all(c in self._index for c in text)

    def encode(self, text: str) -> npt.NDArray[np.int64]:
        """Text -> int64 array of shape (max_len,), padded with ``PAD_ID``.

        Raises:
            ValueError: a character outside the alphabet, or a text longer than ``max_len``.
        """
        if len(text) > self.max_len:
            raise ValueError(f"plate text {text!r} is longer than {self.max_len} characters")
        ids = np.full(self.max_len, PAD_ID, dtype=np.int64)
        for i, c in enumerate(text):
            try:
                ids[i] = self._index[c]
            except KeyError:
                raise ValueError(f"character {c!r} of {text!r} is not in the plate alphabet") from None
        return ids

    def encode_batch(self, texts: Iterable[str]) -> npt.NDArray[np.int64]:
        return np.stack([self.encode(t) for t in texts])

    def decode(self, ids: Sequence[int] | npt.NDArray[np.integer]) -> str:
        """Ids -> text; pad ids are skipped wherever they are."""
        return "".join(self.alphabet[int(i) - 1] for i in ids if 0 < int(i) <= len(self.alphabet))

    def to_dict(self) -> dict[str, object]:
        return {"alphabet": self.alphabet, "max_len": self.max_len, "pad_id": PAD_ID}
