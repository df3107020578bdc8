"""Cells decoded and repaired, one distinct value at a time, as ftfy repairs each text."""

from __future__ import annotations

import re

import ftfy
import ftfy.badness
import numpy as np
import pyarrow as pa

from salesinsight.io.arrow import TEXT
from salesinsight.io.regex import local_reach
from salesinsight.io.text import fix_cells, fix_text, looks_bad, looks_bad_many

ALPHABET = [
    *"abcXYZ 19.,;-'\"()\n\t",
    *"ÃÂâ€™œžŸ¢£¥©®°±²³´µ·¹º»¼½¾¿ÀÁÈÉàáèéñÑçüÜöÖäØÙ×€‚ƒ„…†‡ˆ‰Š‹Œ‘’“”•–—˜™šВГРСΒΓΞΟ√≈ā",
    "\u00a0",
    "\ufeff",
    "Ã©",
    "â€™",
    "Ã ",
]


def random_texts(rng: np.random.Generator, n: int) -> list[str]:
    return ["".join(rng.choice(ALPHABET, rng.integers(0, 8))) for _ in range(n)]


def test_repairs_equal_ftfy_one_text_at_a_time(rng):
    texts = random_texts(rng, 3000)
    column = pa.chunked_array([pa.array(texts[:1500], TEXT), pa.array(texts[1500:], TEXT)])
    fixed, fixes = fix_cells(pa.table({"c": column}))
    # ftfy itself, on every text: asking its badness check first must not change an answer.
    expected = [ftfy.fix_encoding(t.replace("\ufeff", "")) for t in texts]
    assert fixed.column("c").to_pylist() == expected
    assert sum(e != t for e, t in zip(expected, texts, strict=True)) > 300
    changed = [(i, t, e) for i, (t, e) in enumerate(zip(texts, expected, strict=True)) if e != t]
    assert [(i, before, after) for i, _, before, after, _ in fixes] == changed
    assert {why for *_, why in fixes} == {fix_text("\ufeffA")[1], fix_text("CafÃ©")[1]}


def test_window_search_equals_ftfy_badness_on_long_texts(rng):
    # Texts longer than the windows, so that matches fall at their starts, ends and in between.
    # Mostly plain letters, so that about half the texts hold a match.
    weights = np.where([len(a) == 1 and a.isascii() for a in ALPHABET], 40.0, 1.0)
    weights /= weights.sum()
    texts = ["".join(rng.choice(ALPHABET, rng.integers(8, 40), p=weights)) for _ in range(4000)]
    texts += ["Ã ok", "xÃ ok", "ok Ã ", "Zürich AG - Suite", "Café Olé"]
    expected = [ftfy.badness.is_bad(t) for t in texts]
    assert [looks_bad(t) for t in texts] == expected
    assert looks_bad_many(texts).tolist() == expected
    # A text holding the separator of the one-pass search is searched whole.
    assert looks_bad_many(["a\x00Ã©", *texts[:50]]).tolist() == [True, *expected[:50]]
    assert 500 < sum(expected) < len(texts) - 500


def test_only_local_patterns_are_searched_by_windows():
    assert local_reach(ftfy.badness.BADNESS_RE) is not None
    assert local_reach(re.compile("[a-z]é|ü")) == 1
    for pattern in ["é+", "a|é", "(?<=a)é", "é$", r"é\b", "(é)\\1", "(?i)é"]:
        assert local_reach(re.compile(pattern)) is None, pattern
