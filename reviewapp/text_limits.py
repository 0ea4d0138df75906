"""How long each kind of text may be, in one place: the models' column sizes, the forms'
validators and the imports' checks all read these, so no way in skips a limit.

And what no text may hold: a NUL character (PostgreSQL refuses it, other tools cut the text
at it).
"""

from __future__ import annotations

from reviewapp.errors import ServiceError

NAME = 120  # a person's or a team's name
EMAIL = 254  # RFC 5321's longest address
TITLE = 200  # a goal's title
NOTE = 4000  # a description, a note, a comment
REVIEW_TEXT = 10_000  # one rating's evidence, a self-assessment answer, a summary
NUL = "\x00"


def check(value: str | None, limit: int, field: str, label: str = "") -> str:
    """The text, stripped; ServiceError on `field` when it is too long or holds a NUL."""
    text = (value or "").strip()
    if NUL in text:
        raise ServiceError(f"{label or 'The text'} contains a NUL character, which is not "
                           "allowed.", field=field)
    if len(text) > limit:
        where = f"{label}: use" if label else "Use"
        raise ServiceError(f"{where} at most {limit:,} characters ({len(text):,} now).",
                           field=field)
    return text
