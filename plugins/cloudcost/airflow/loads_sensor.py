"""``wait_for_loads``: the rollup gate as a sensor; on timeout it fails naming each missing load."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk.bases.sensor import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout

from cloudcost.identifiers import OrgSlug


class LoadsCompleteSensor(BaseSensorOperator):
    """Passes when every provider the org enables has a succeeded load of each day of the interval."""

    template_fields: Sequence[str] = ("org_slug",)
    ui_color = "#fef3e0"

    def __init__(self, *, org_slug: OrgSlug, **kwargs: Any) -> None:
        kwargs.setdefault("soft_fail", False)
        super().__init__(**kwargs)
        self.org_slug = org_slug

    def _missing(self, context: Any) -> list:
        from cloudcost.airflow.run_conf import days_of
        from cloudcost.config import load_org_by_slug
        from cloudcost.rollups.gate import missing_loads
        from cloudcost.warehouse import open_warehouse

        org = load_org_by_slug(self.org_slug)
        days = days_of(context)
        warehouse = open_warehouse()
        with warehouse.session(org.dataset) as session:
            return missing_loads(warehouse, session, org, days)

    def poke(self, context: Any) -> bool:
        missing = self._missing(context)
        for item in missing:
            self.log.info("%s: waiting for %s", self.org_slug, item)
        return not missing

    def execute(self, context: Any) -> Any:
        try:
            return super().execute(context)
        except AirflowSensorTimeout:
            # still a sensor timeout (final: Airflow does not retry it), now naming what is missing
            missing = "; ".join(map(str, self._missing(context)))
            raise AirflowSensorTimeout(
                f"org {self.org_slug}: rollups not refreshed, loads missing after the gate's timeout: {missing}"
            ) from None
