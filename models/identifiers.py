"""Identifiers: Norwegian organisation numbers and revision slugs."""

import re

_ORG_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
_REPLACEMENTS = (("æ", "ae"), ("Æ", "Ae"), ("ø", "o"), ("Ø", "O"), ("å", "a"), ("Å", "A"))
_WORD = re.compile(r"[a-z0-9]+")


def is_valid_org_number(value: str) -> bool:
    """Brønnøysund organisation number: 9 digits, the last a mod-11 check digit."""
    digits = value.replace(" ", "")
    if len(digits) != 9 or not (digits.isascii() and digits.isdigit()):
        return False
    remainder = sum(int(d) * w for d, w in zip(digits, _ORG_WEIGHTS)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(digits[8])


def slugify(title: str) -> str:
    """`Revidering av samarbeidsavtalen 2024` → `revidering-av-samarbeidsavtalen-2024` (æ→ae, ø→o, å→a).

    python-slugify makes it. A title that is printable ASCII once æ, ø and å are replaced, without
    `'`, `&` or `,` (which python-slugify reads as a quote, an HTML entity, a thousands separator),
    is one it only lower-cases and splits into its runs of letters and digits joined by `-`: that is
    done here without importing it (its import compiles a pattern of every HTML entity name: ~2.5% of
    `plan check`). tests/test_plan_properties.py compares the two."""
    text = title
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    if text.isascii() and text.isprintable() and not any(c in text for c in "'&,"):
        return "-".join(_WORD.findall(text.lower()))
    return library_slugify(title)


def library_slugify(title: str) -> str:
    from slugify import slugify as _slugify

    # text-unidecode named: by default python-slugify first tries to import Unidecode, on every call
    # (~0.3 ms when it is not installed, as here), and would use it, not text-unidecode, if it were.
    return _slugify(title, replacements=[list(r) for r in _REPLACEMENTS], backend="text-unidecode")
