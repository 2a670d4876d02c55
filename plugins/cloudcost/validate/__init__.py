"""The FOCUS referee: the FinOps Foundation's focus-validator judges our FOCUS output, per provider (1.3; or 1.4,
whose Billing Period dataset is judged too).

``run_validation(org)`` exports each provider's rows to typed Parquet, runs the validator (its own venv,
offline rules, the applicability criteria we claim in ``configs/focus_conformance.yml``), and returns a
``ValidationReport`` whose ``format()`` is the printable verdict. Heavy imports wait until it is called, so
registering the CLI command costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloudcost.validate.run import ValidationReport, run_validation

__all__ = ["ValidationReport", "run_validation"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from cloudcost.validate import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
