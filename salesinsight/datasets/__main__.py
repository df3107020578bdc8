"""Regenerate the bundled sample exports: ``python -m salesinsight.datasets [--out DIR]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from salesinsight.datasets.sample import write_sample

_DEFAULT = Path(__file__).resolve().parent / "sample"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the sample world's exports, ``dirt.csv`` and ``truth.csv``; print what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m salesinsight.datasets",
        description="Regenerate the bundled sample exports (deterministic).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=_DEFAULT,
        help="folder to write to (default: the package's bundled sample folder)",
    )
    args = parser.parse_args(argv)
    for key, path in write_sample(args.out).items():
        print(f"{key:<22} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
