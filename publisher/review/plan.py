"""A revision's review plan: the stages fixed at submission, as `review_state.plan_json` keeps them.

Apart from workflow.py so that reading a plan (the stage an article waits at, for
`publisher articles`) loads neither the store's tables nor the staff rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class PlannedStage:
    key: str
    name: str
    role: str  # the role that acts here for this revision (escalated when sensitive)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def plan_from_json(text: str) -> list[PlannedStage]:
    return [PlannedStage(**item) for item in json.loads(text)]


def plan_to_json(stages: Sequence[PlannedStage]) -> str:
    return json.dumps([s.as_dict() for s in stages], ensure_ascii=False)
