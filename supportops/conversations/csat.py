"""The email channel's one-click rating links: one signed, expiring link per score.

A link carries the rating request's id and the score, signed with Django's signing (the
project's SECRET_KEY and a salt of its own), so nobody can rate another conversation or
forge a score; it stops working CSAT_LINK_MAX_AGE_DAYS after the email was sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from .models import CsatRequest

SALT = "supportops.csat-link"
SCORES = (1, 2, 3, 4, 5)
SCORE_LABELS = {1: "Very poor", 2: "Poor", 3: "OK", 4: "Good", 5: "Excellent"}


class CsatLinkInvalid(Exception):
    """The link is malformed, tampered with, or expired; the message says which."""


@dataclass(frozen=True)
class CsatLink:
    request_id: int
    score: int


def csat_link_token(*, request: CsatRequest, score: int) -> str:
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}")
    return signing.dumps({"r": request.pk, "s": score}, salt=SALT, compress=False)


def csat_link_read(token: str) -> CsatLink:
    max_age = settings.CSAT_LINK_MAX_AGE_DAYS * 86400
    try:
        value = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise CsatLinkInvalid("This rating link has expired.") from None
    except signing.BadSignature:
        raise CsatLinkInvalid("This rating link is not valid.") from None
    if not isinstance(value, dict):
        raise CsatLinkInvalid("This rating link is not valid.")
    request_id, score = value.get("r"), value.get("s")
    if not isinstance(request_id, int) or isinstance(score, bool) or score not in SCORES:
        raise CsatLinkInvalid("This rating link is not valid.")
    return CsatLink(request_id=request_id, score=score)
