"""Whether a regular expression is *local*: each match short and holding a non-ASCII character.

For such a pattern, a text holds a match exactly when one of the short windows around its
non-ASCII characters does, so many texts that share a few accented names can be searched window
by window, each distinct window once (:func:`salesinsight.io.text.looks_bad`). The check reads
the pattern's parse tree from Python's own regular-expression parser; a pattern it cannot vouch
for (look-arounds, back-references, anchors other than the text's start, unbounded repeats,
case-insensitive matching, a branch that can match ASCII alone) is not local.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

__all__ = ["local_reach"]

#: Longest match worth searching by windows.
_MAX_WIDTH = 64


def local_reach(pattern: re.Pattern[str]) -> int | None:
    """How far any match of `pattern` reaches from one of its non-ASCII characters: its longest
    match less one; ``None`` when `pattern` is not local.

    Examples
    --------
    >>> local_reach(re.compile("[a-z]é|ü")), local_reach(re.compile("é+")), local_reach(re.compile("a|é"))
    (1, None, None)
    """
    try:
        # Python's own parser (3.11+): the tree `re.compile` compiles.
        _parser = importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - another Python implementation
        return None
    if pattern.flags & re.IGNORECASE or not isinstance(pattern.pattern, str):
        return None
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError):  # pragma: no cover - compiled already, so it parses
        return None
    _, longest = tree.getwidth()
    if longest > _MAX_WIDTH or not _plain(tree, _parser) or not _needs_non_ascii(tree, _parser):
        return None
    return longest - 1


def _plain(tree: Any, parser: Any) -> bool:
    """Only characters, classes, groups, branches, bounded repeats and the text's start."""
    for op, av in tree.data:
        if op in (parser.LITERAL, parser.NOT_LITERAL, parser.IN, parser.ANY):
            continue
        if op is parser.AT and av is parser.AT_BEGINNING:
            continue
        if op is parser.BRANCH:
            if not all(_plain(branch, parser) for branch in av[1]):
                return False
        elif op is parser.SUBPATTERN:
            if not _plain(av[-1], parser):
                return False
        elif op in (parser.MAX_REPEAT, parser.MIN_REPEAT):
            if not _plain(av[2], parser):
                return False
        else:
            return False
    return True


def _needs_non_ascii(tree: Any, parser: Any) -> bool:
    """Whether every match of `tree` holds a character outside ASCII."""
    for op, av in tree.data:
        if op is parser.LITERAL and av > 0x7F:
            return True
        if op is parser.IN and _non_ascii_class(av, parser):
            return True
        if op is parser.SUBPATTERN and _needs_non_ascii(av[-1], parser):
            return True
        if op in (parser.MAX_REPEAT, parser.MIN_REPEAT) and av[0] >= 1:
            if _needs_non_ascii(av[2], parser):
                return True
        if op is parser.BRANCH and all(_needs_non_ascii(b, parser) for b in av[1]):
            return True
    return False


def _non_ascii_class(items: list, parser: Any) -> bool:
    for op, av in items:
        if op is parser.LITERAL and av > 0x7F:
            continue
        if op is parser.RANGE and av[0] > 0x7F:
            continue
        return False
    return True
