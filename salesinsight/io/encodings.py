"""Text encodings of export files: sniffed from the bytes, checked, and decoded.

CRM exports come as UTF-8 (with or without a byte-order mark), UTF-16 (Excel's "Unicode text")
or a Windows code page. A file in a single-byte encoding is parsed as bytes and only its non-ASCII
cells are decoded (by :mod:`salesinsight.io.text`), so such a file is checked for bytes the
encoding does not define before it is parsed.
"""

from __future__ import annotations

import codecs
import mmap
from functools import cache

import numpy as np

from salesinsight.exceptions import ExportFormatError

__all__ = [
    "check_single_byte",
    "code_page",
    "decode",
    "single_byte_codec",
    "sniff_encoding",
    "unicode_encoding",
]


def sniff_encoding(data: bytes | mmap.mmap) -> str:
    """Guess the text encoding: BOMs first, then UTF-16 without BOM, UTF-8, cp1252, latin-1.

    Examples
    --------
    >>> sniff_encoding("Müller".encode("cp1252")), sniff_encoding("Müller".encode("utf-16"))
    ('cp1252', 'utf-16')
    """
    return unicode_encoding(data) or code_page(data)


def unicode_encoding(data: bytes | mmap.mmap) -> str | None:
    """The Unicode encoding of `data` (:func:`sniff_encoding`), or ``None`` when it is in none
    and so in a code page (:func:`code_page`).

    Examples
    --------
    >>> unicode_encoding("Müller".encode("utf-8")), unicode_encoding("Müller".encode("cp1252"))
    ('utf-8', None)
    """
    head = data[:4096]
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head.count(0) > len(head) // 4:
        return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    step = 1 << 23
    with memoryview(data) as view:
        if all(_is_ascii(view[i : i + step]) for i in range(0, len(view), step)):
            return "utf-8"
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for i in range(0, len(view), step):
                decoder.decode(view[i : i + step], final=i + step >= len(view))
            return "utf-8"
        except UnicodeDecodeError:
            pass
    return None


def code_page(data: bytes | mmap.mmap) -> str:
    """The code page of `data` in no Unicode encoding: cp1252, which decodes every byte but
    five, else latin-1 (a file holding one of those five).

    Examples
    --------
    >>> code_page("Müller".encode("cp1252")), code_page(b"M\\x81ller")
    ('cp1252', 'latin-1')
    """
    return "latin-1" if any(data.find(b) >= 0 for b in _undefined_bytes("cp1252")) else "cp1252"


def _is_ascii(view: memoryview) -> bool:
    return bool(np.frombuffer(view, dtype=np.uint8).max(initial=0) < 0x80)


# Encodings with one byte per character and ASCII below 0x80 (codec names as codecs.lookup
# gives them): their files are parsed as bytes, and only non-ASCII cells are decoded.
_SINGLE_BYTE = frozenset(
    {
        "cp1250",
        "cp1251",
        "cp1252",
        "cp1253",
        "cp1254",
        "cp1257",
        "iso8859-1",
        "iso8859-2",
        "iso8859-15",
        "mac-roman",
    }
)


def single_byte_codec(encoding: str) -> str | None:
    """The codec name of a single-byte ASCII-compatible `encoding`, else ``None``.

    Files in such an encoding are parsed as bytes, and only their non-ASCII cells are decoded.

    Examples
    --------
    >>> single_byte_codec("Windows-1252"), single_byte_codec("utf-8"), single_byte_codec("nope")
    ('cp1252', None, None)
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    return name if name in _SINGLE_BYTE else None


@cache
def _undefined_bytes(encoding: str) -> tuple[bytes, ...]:
    return tuple(
        bytes([b])
        for b in range(0x80, 0x100)
        if bytes([b]).decode(encoding, errors="replace") == "\ufffd"
    )


def check_single_byte(data: bytes | mmap.mmap, encoding: str, name: str) -> None:
    """Raise :class:`~salesinsight.exceptions.ExportFormatError` if `data` holds a byte that is
    no character of the single-byte `encoding` (the file `name` is in another encoding)."""
    for byte in _undefined_bytes(encoding):
        at = data.find(byte)
        if at >= 0:
            raise ExportFormatError(
                f"`{name}` cannot be decoded as {encoding}: byte 0x{byte.hex()} at byte offset {at:,} "
                "is not a character of that encoding. Pass the file's encoding to read_export "
                "(e.g. encoding='latin-1' or 'utf-16'), or omit encoding= to detect it."
            )


def decode(data: bytes | mmap.mmap, encoding: str, name: str) -> str:
    """The text of `data` in `encoding`, without a leading byte-order mark; an
    :class:`~salesinsight.exceptions.ExportFormatError` naming the file `name` if it is not
    in that encoding.

    Examples
    --------
    >>> decode("\ufeffMüller".encode("utf-8"), "utf-8", "deals.csv")
    'Müller'
    """
    try:
        return codecs.decode(data, encoding).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError) as err:
        raise ExportFormatError(
            f"`{name}` cannot be decoded as {encoding}: {err}. Pass the file's encoding to "
            "read_export (e.g. encoding='cp1252' or 'utf-16'), or omit encoding= to detect it."
        ) from err
