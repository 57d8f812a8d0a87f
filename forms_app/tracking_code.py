"""Tracking codes (查询码): 80 random bits, read out and typed on a phone without doubt.

The alphabet leaves out 0, O, 1, I, L and U, the characters people confuse with another,
so a misread character is rarely another valid one.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 symbols: no 0 O 1 I L U
LENGTH = 16  # 16 * log2(30) = 78.5 bits
GROUP = 4
_VALID = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    # One draw of the whole number, written in base 30 (uniform, one call to the OS).
    return from_number(secrets.randbelow(len(ALPHABET) ** LENGTH))


def from_number(n: int) -> str:
    """The code of a number below len(ALPHABET) ** LENGTH, in base 30."""
    digits = []
    for _ in range(LENGTH):
        n, d = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[d])
    return "".join(digits)


def display(code: str) -> str:
    """ABCD-EFGH-JKMN-PQRS: groups of four are easier to read out and compare."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalize(text: str) -> str | None:
    """The stored form of what a member typed (any case, spaces or dashes), or None."""
    code = re.sub(r"[\s\-–—_.]", "", text or "").upper()
    return code if _VALID.match(code) else None
