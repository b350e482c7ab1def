"""Named sizes for the whole book: ``smoke`` (tests), ``quick`` (the default book on a
2-core CPU) and ``paper`` (the study's sizes, on a GPU).

A notebook's parameters name the profile; everything else comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    resolution: float  # degrees
    years: tuple[int, int]  # inclusive
    description: str


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", 4.0, (2018, 2020), "tiny: every notebook in seconds, for the tests"),
    "quick": Profile("quick", 2.0, (2000, 2020), "the default book on a 2-core CPU"),
    "paper": Profile("paper", 1.0, (1991, 2020), "the study's sizes; train on a GPU"),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; raises ``ValueError`` listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}") from None
