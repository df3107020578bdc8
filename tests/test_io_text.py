"""Cells decoded and repaired: the one-pass badness screen must never miss a text ftfy flags."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from ftfy.badness import is_bad

from salesinsight.io.tables import TEXT
from salesinsight.io.text import _suspects, fix_cells, fix_text

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


def test_every_text_ftfy_flags_is_a_suspect(rng):
    flagged = 0
    for _ in range(200):
        texts = random_texts(rng, int(rng.integers(1, 30)))
        suspects = _suspects(texts)
        bad = np.array([is_bad(t) for t in texts])
        flagged += int(bad.sum())
        assert not (bad & ~suspects).any(), [
            t for t, b, s in zip(texts, bad, suspects, strict=True) if b > s
        ]
    assert flagged > 100  # the alphabet does produce mojibake-looking text


def test_repairs_equal_ftfy_one_text_at_a_time(rng):
    texts = random_texts(rng, 3000)
    column = pa.chunked_array([pa.array(texts[:1500], TEXT), pa.array(texts[1500:], TEXT)])
    fixed, fixes = fix_cells(pa.table({"c": column}))
    expected = [fix_text(t) for t in texts]
    assert fixed.column("c").to_pylist() == [e[0] for e in expected]
    changed = [
        (i, t, e[0], e[1]) for i, (t, e) in enumerate(zip(texts, expected, strict=True)) if e[1]
    ]
    assert [(i, before, after, why) for i, _, before, after, why in fixes] == changed
