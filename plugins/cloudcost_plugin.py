"""Registers cloudcost's timetable and its run-note listener (``cloudcost.airflow.run_notes``) with Airflow.

The library itself is the package ``cloudcost/``.
"""

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from cloudcost.airflow import run_notes
from cloudcost.airflow.timetable import BillingDayTimetable


class CloudcostPlugin(AirflowPlugin):
    name = "cloudcost"
    timetables: ClassVar[list[type]] = [BillingDayTimetable]
    listeners: ClassVar[list] = [run_notes]
