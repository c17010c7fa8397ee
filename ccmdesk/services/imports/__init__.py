"""CSV imports (SPEC §2.1): all-or-nothing, every bad row reported, idempotent."""

from ccmdesk.services.imports.common import ImportRejected, ImportSummary, RowProblem

__all__ = ["ImportRejected", "ImportSummary", "RowProblem"]
