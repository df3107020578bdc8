"""Cells decoded and repaired, one distinct value at a time, as ftfy repairs each text."""

from __future__ import annotations

import ftfy
import numpy as np
import pyarrow as pa

from salesinsight.io.arrow import TEXT
from salesinsight.io.text import fix_cells, fix_text

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
