"""The book's claims table: every claim of the study tested, Holm-corrected over the whole book
(``hydrolib.study.claims.judge_claims``); each chapter shows its own rows."""

from __future__ import annotations

from hydrolib.study.claims import judge_claims
from hydrolib.study.results import Context


def compute(context: Context) -> dict[str, object]:
    """Runs: every run a claim reads (``hydrolib.study.claims.CLAIMS``), for every training seed."""
    return {"claims": judge_claims(context)}
