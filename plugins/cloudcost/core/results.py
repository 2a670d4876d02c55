"""What the landing and converting stages report (and return to XCom): counts and sums, never data or secrets.

Both warehouses produce them and the pipeline passes them on, so they live below both."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Landed:
    """Rows inserted per delivery key (0 for a delivery whose files hold none)."""

    rows_by_delivery: dict[str, int] = field(default_factory=dict)

    @property
    def deliveries(self) -> int:
        return len(self.rows_by_delivery)

    @property
    def rows(self) -> int:
        return sum(self.rows_by_delivery.values())


@dataclass(frozen=True)
class LandResult:
    """What ``land_raw`` reports.

    ``rows``, ``billed_cost``, ``source_version``: the run's billing day after landing; ``replaced_rows``: that
    day's rows before; ``objects``: files of the day's deliveries; ``landed_deliveries``/``landed_rows``: what
    this run read and inserted (0 when every delivery was already landed at its version)."""

    rows: int
    billed_cost: str
    replaced_rows: int
    objects: int
    source_version: str | None
    landed_deliveries: int = 0
    landed_rows: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ConvertResult:
    """What ``convert_to_focus`` reports: the (provider, day) slice after the conversion, and its size before."""

    rows: int
    billed_cost: str
    effective_cost: str
    replaced_rows: int

    def as_dict(self) -> dict:
        return asdict(self)
