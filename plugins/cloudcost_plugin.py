"""Registers cloudcost's timetable with Airflow. The library itself is the package ``cloudcost/``."""

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from cloudcost.timetable import BillingDayTimetable


class CloudcostPlugin(AirflowPlugin):
    name = "cloudcost"
    timetables: ClassVar[list[type]] = [BillingDayTimetable]
