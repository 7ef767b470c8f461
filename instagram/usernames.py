"""Instagram's username rules, checked before anything is reserved or fetched."""

import re

_VALID = re.compile(r"^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9._]{1,30}$")


def normalize_username(name: str) -> str:
    """Instagram usernames are case-insensitive; a leading '@' is how people paste them."""
    name = name.strip()
    return (name[1:] if name.startswith("@") else name).lower()


def is_valid_username(name: str) -> bool:
    """1-30 of letters, digits, '.' and '_'; no leading, trailing or doubled '.'."""
    return bool(_VALID.match(name))
