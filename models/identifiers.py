"""Identifiers: Norwegian organisation numbers and revision slugs."""

from slugify import slugify as _slugify

_ORG_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def is_valid_org_number(value: str) -> bool:
    """Brønnøysund organisation number: 9 digits, the last a mod-11 check digit."""
    digits = value.replace(" ", "")
    if len(digits) != 9 or not (digits.isascii() and digits.isdigit()):
        return False
    remainder = sum(int(d) * w for d, w in zip(digits, _ORG_WEIGHTS)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(digits[8])


def slugify(title: str) -> str:
    """`Revidering av samarbeidsavtalen 2024` → `revidering-av-samarbeidsavtalen-2024` (æ→ae, ø→o, å→a)."""
    # text-unidecode named: by default python-slugify first tries to import Unidecode, on every call
    # (~0.3 ms when it is not installed, as here), and would use it, not text-unidecode, if it were.
    return _slugify(title, replacements=[["æ", "ae"], ["Æ", "Ae"], ["ø", "o"], ["Ø", "O"], ["å", "a"], ["Å", "A"]], backend="text-unidecode")
