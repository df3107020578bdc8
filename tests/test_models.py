"""Design matrices: encodings, cross-products and rank checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesinsight.exceptions import AnalysisError
from salesinsight.stats.checks import Caveats
from salesinsight.stats.design import build_design, clearly_full_rank, gram_matrix


def frame_of(rng: np.random.Generator, n: int = 600) -> pd.DataFrame:
    industry = rng.choice(["tech", "retail", "health", "energy"], n, p=[0.5, 0.3, 0.19, 0.01])
    industry[:3] = ["mining", "shipping", "farming"]  # rare levels, pooled
    return pd.DataFrame(
        {
            "repeat": rng.random(n) < 0.4,
            "size": rng.normal(5.0, 1.0, n),
            "industry": pd.Series(industry, dtype="str"),
        }
    )


class TestBuildDesign:
    def test_categories_encode_as_their_text(self, rng):
        text = frame_of(rng)
        categorical = text.assign(
            industry=pd.Categorical(text["industry"], categories=[*text["industry"].unique(), "x"])
        )
        designs = []
        for frame in (text, categorical):
            caveats = Caveats()
            design = build_design(
                frame,
                predictor="repeat",
                controls=["size", "industry"],
                caveats=caveats,
                intercept=True,
            )
            designs.append((design, caveats.note))
        (a, note_a), (b, note_b) = designs
        pd.testing.assert_frame_equal(a.exog, b.exog)
        assert note_a == note_b
        assert "4 rare level(s) of `industry`" in note_a
        assert "compared with its most common level `tech`" in note_a

    def test_missing_labels_are_in_no_level(self, rng):
        frame = frame_of(rng)
        frame.loc[frame.index[:50], "industry"] = np.nan
        design = build_design(
            frame, predictor="repeat", controls=["industry"], caveats=Caveats(), intercept=True
        )
        dummies = design.exog.filter(like="industry[")
        assert (dummies.iloc[:50].to_numpy() == 0).all()

    def test_cross_products_are_kept(self, rng):
        design = build_design(
            frame_of(rng),
            predictor="repeat",
            controls=["size", "industry"],
            caveats=Caveats(),
            intercept=True,
        )
        x = design.exog.to_numpy()
        np.testing.assert_allclose(design.gram, x.T @ x, rtol=1e-12, atol=1e-9)

    def test_cross_product_of_a_column_far_from_zero_is_exact(self, rng):
        # A calendar year beside the intercept: its cross-product is computed from the centred
        # column, so the small spread is not lost to the large mean.
        frame = frame_of(rng).assign(year=lambda f: 2020.0 + rng.integers(0, 5, len(f)))
        design = build_design(
            frame, predictor="repeat", controls=["year"], caveats=Caveats(), intercept=True
        )
        x = design.exog.to_numpy()
        exact = np.array([[math.fsum(u * v) for v in x.T] for u in x.T])
        np.testing.assert_allclose(design.gram, exact, rtol=1e-13)

    def test_collinear_control_left_out_and_redundant_predictor_rejected(self, rng):
        frame = frame_of(rng).assign(twice=lambda f: 2 * f["size"], same=lambda f: f["repeat"])
        caveats = Caveats()
        design = build_design(
            frame, predictor="repeat", controls=["size", "twice"], caveats=caveats, intercept=True
        )
        assert "twice" not in design.exog.columns
        assert design.gram.shape == (3, 3)
        assert "`twice` left out" in caveats.note
        with pytest.raises(AnalysisError, match="fully determined"):
            build_design(
                frame, predictor="repeat", controls=["same"], caveats=Caveats(), intercept=True
            )


class TestGramMatrix:
    def test_plain_weighted_and_centred_equal_numpy(self, rng):
        x = rng.normal(size=(20_000, 7)) + 3.0
        w = rng.random(20_000)
        c = x.mean(axis=0)
        np.testing.assert_allclose(gram_matrix(x), x.T @ x, rtol=1e-12)
        np.testing.assert_allclose(gram_matrix(x, weights=w), x.T @ (w[:, None] * x), rtol=1e-12)
        expected = (x - c).T @ (x - c)
        np.testing.assert_allclose(gram_matrix(x, center=c), expected, rtol=1e-10, atol=1e-8)


class TestClearlyFullRank:
    def test_independent_nearly_dependent_and_dependent_columns(self, rng):
        x = rng.normal(size=(1000, 3))
        assert clearly_full_rank(x.T @ x)
        near = np.column_stack([x, x[:, 0] + 1e-7 * rng.normal(size=1000)])
        assert not clearly_full_rank(near.T @ near)
        same = np.column_stack([x, x[:, 0]])
        assert not clearly_full_rank(same.T @ same)
        assert not clearly_full_rank(np.full((2, 2), np.nan))
