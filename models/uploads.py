"""What an upload must be before anything is stored: a file name that names one file (no path,
no NUL byte, no control character), a size under the installation's limit, or a web address.

Pure: the caller reads the bytes and passes their size.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from .errors import DomainError, ErrorCode

MAX_NAME = 200
MAX_URL = 2000


def clean_file_name(name: str, *, field: str = "file") -> str:
    """The name as it will be stored and offered for download; refused if it is not one plain file name."""
    problem = _name_problem(name)
    if problem:
        shown = name.replace("\x00", "\\0")[:80]
        raise DomainError(f"--{field}: the file name {shown!r} cannot be used ({_WHY[problem]})", code=ErrorCode.bad_file_name, field=field, name=shown, problem=problem)
    return unicodedata.normalize("NFC", name)


def _name_problem(name: str) -> str | None:
    if not name or not name.strip():
        return "empty"
    if "\x00" in name:
        return "nul"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        return "control"
    if "/" in name or "\\" in name:
        return "path"
    if name.strip() in (".", ".."):
        return "dots"
    if name.startswith("."):
        return "hidden"
    if len(name) > MAX_NAME:
        return "too_long"
    return None


_WHY = {
    "empty": "empty", "nul": "it holds a NUL byte", "control": "it holds a control character", "path": "it holds / or \\: give one file's name",
    "dots": "it is . or ..", "hidden": "it starts with a dot", "too_long": f"over {MAX_NAME} characters",
}


def check_size(size: int, maximum: int, *, name: str, field: str = "file") -> None:
    if size > maximum:
        raise DomainError(
            f"--{field}: {name} is {size:,} bytes; an upload is at most {maximum:,} (AVTALEFLYT_MAX_UPLOAD_BYTES); nothing was stored",
            code=ErrorCode.file_too_large, field=field, name=name, size=size, maximum=maximum,
        )


def check_url(url: str, *, field: str = "url") -> str:
    """An http(s) address on one line, as given (stripped)."""
    url = url.strip()
    parts = urlsplit(url) if len(url) <= MAX_URL and url.isprintable() and " " not in url else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        shown = url[:80]
        raise DomainError(f"--{field}: {shown!r} is not a web address (http:// or https://)", code=ErrorCode.bad_url, field=field, url=shown)
    return url
