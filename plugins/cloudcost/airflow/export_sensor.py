"""``wait_for_export``: passes only when the provider's export for the run's billing day is complete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk.bases.sensor import BaseSensorOperator

from cloudcost.config import Provider
from cloudcost.identifiers import OrgSlug


class ExportCompleteSensor(BaseSensorOperator):
    """Waits (reschedule mode by default) for a complete export; fails, never skips, on timeout."""

    template_fields: Sequence[str] = ("org_slug",)
    ui_color = "#e8f0fe"

    def __init__(self, *, provider: Provider, org_slug: OrgSlug, **kwargs: Any) -> None:
        kwargs.setdefault("soft_fail", False)
        super().__init__(**kwargs)
        self.provider = provider
        self.org_slug = org_slug

    def poke(self, context: Any) -> bool:
        from cloudcost.airflow.run_conf import days_of
        from cloudcost.pipeline.stages import export_status

        for day in days_of(context):
            status = export_status(self.org_slug, self.provider, day)
            self.log.info("%s/%s %s: %s", self.org_slug, self.provider, day, status.reason)
            if not status.complete:
                return False
        return True
