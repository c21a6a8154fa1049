"""The inspection's settings and the lists it checks against, read from review/.

Apart from `run.py` so that a delivery worker, which reads them at start-up to arm its inspection
jobs, does not load the inspection itself (its fetchers, page parsers and channel inspectors)
until an inspection is due.
"""

from __future__ import annotations

from publisher.inspection.content import Lists
from publisher.inspection.settings import InspectionSettings, load_inspection
from publisher.newsroom import Newsroom
from publisher.review.checks import load_secrecy, load_terms
from publisher.review.leaders import load_leaders


def load_settings(room: Newsroom) -> tuple[InspectionSettings, Lists]:
    review_dir = room.root / room.settings.paths.review
    settings = load_inspection(review_dir, room.root)
    lists = Lists(
        secrecy=load_secrecy(review_dir, room.root),
        terms=load_terms(review_dir, room.root),
        leaders=load_leaders(review_dir, room.root),
    )
    return settings, lists
