"""What every collector returns: validated frames, issues (rejects and warnings), provenance."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from .exceptions import CollectorError

__all__ = ["Issue", "Collected", "file_sha256", "read_text_head", "detect_encoding", "decode_bytes"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """A problem with one row (or one field) of a source.

    ``severity="error"`` means the row is rejected; ``"warning"`` means it is
    kept and flagged for review.  ``row`` is the 1-based line or sheet row as a
    person sees it in the file.
    """

    file: str
    rule: str
    message: str
    severity: Severity = "error"
    sheet: str | None = None
    row: int | None = None
    field: str | None = None
    value: str | None = None
    rows: int = 1  # source rows this issue stands for (an enterprise-month refused whole, a summary line)

    def __str__(self) -> str:
        where = self.file + (f" [{self.sheet}]" if self.sheet else "") + (f" row {self.row}" if self.row else "")
        return f"{where}: {self.message} (rule {self.rule})"


@dataclass
class Collected:
    """The result of reading one source file.

    Attributes
    ----------
    kind : str
        ``survey``, ``electricity``, ``electricity_accounts`` or ``official``.
    path : Path
        The file read.
    sha256 : str
        Digest of the file's bytes (same content = same digest, whatever the name).
    tables : dict of DataFrame
        Validated rows by table name; each frame has a ``source_row`` column.
    issues : list of Issue
        Rejected rows (errors) and flagged rows (warnings).
    meta : dict
        What the collector learned about the file (encoding, sheet names, ...).
    """

    kind: str
    path: Path
    sha256: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def rejected_rows(self) -> int:
        """Rows rejected by the collector, counted once each."""
        return sum(i.rows for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks (memory stays flat for large exports)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def detect_encoding(sample: bytes) -> str:
    """Return ``utf-8-sig``, ``utf-8`` or ``gb18030`` (a superset of GBK) for a byte sample.

    UTF-8 is tried strictly (a multi-byte character cut at the end of the
    sample is allowed); anything else that decodes as GB 18030 is taken as GBK.
    """
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and exc.reason.startswith("unexpected end"):
            return "utf-8"
    try:
        sample.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    return "utf-8"


def decode_bytes(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode a whole (small) file; return ``(text, encoding)`` or raise a clear CollectorError."""
    enc = encoding or detect_encoding(data[: 1 << 16])
    try:
        return data.decode(enc), enc
    except UnicodeDecodeError as exc:
        other = "GBK" if enc.startswith("utf") else "UTF-8"
        raise CollectorError(
            f"{path.name}: not valid {enc} text (byte {data[exc.start:exc.start + 1]!r} at offset {exc.start}); "
            f"the file looks like {other}: export it again as UTF-8 (or GBK) text"
        ) from None


def read_text_head(path: Path, lines: int = 12, encoding: str | None = None) -> tuple[list[str], str]:
    """The first lines of a text file and its encoding (auto-detected unless given)."""
    with path.open("rb") as fh:
        sample = fh.read(1 << 16)
    if len(sample) == 1 << 16 and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]  # never cut a multi-byte character
    text, enc = decode_bytes(sample, path, encoding) if sample else ("", encoding or "utf-8")
    return text.splitlines()[:lines], enc
