"""What a mutating service changed, so views refresh just those rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from ccmdesk.domain.time import Month


@dataclass(frozen=True)
class Changes:
    patient_ids: frozenset[int] = field(default_factory=frozenset)
    months: frozenset[Month] = field(default_factory=frozenset)
    #: The row a "create" made (a new time entry, say), when there is one.
    created_id: int | None = None

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.patient_ids | other.patient_ids,
            self.months | other.months,
            self.created_id or other.created_id,
        )
