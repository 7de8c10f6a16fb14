"""Text helpers shared by search and import."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def _initial(ch: str) -> str:
    if ch.isascii():
        return ch.upper() if ch.isalnum() else ""
    letters = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore")
    return letters[0][:1].upper() if letters and letters[0] else ""


def pinyin_initials(text: str) -> str:
    """柳州五菱汽车 -> LZWLQC. Cached per character, so 200k names cost well under a second."""
    return "".join(_initial(ch) for ch in text)[:200]


def normalise_header(text: str) -> str:
    """Compare headers the way people write them: NFKC folds full-width, spaces are dropped."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(folded.split()).lower()
