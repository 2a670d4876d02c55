"""Warehouse back ends behind one small interface: DuckDB (embedded default) and, later, BigQuery."""

from cloudcost.warehouse.base import SliceKey, Warehouse
from cloudcost.warehouse.duckdb import DuckDBWarehouse


def open_warehouse() -> Warehouse:
    """The configured warehouse (today: the DuckDB file of ``CLOUDCOST_WAREHOUSE``)."""
    return DuckDBWarehouse.from_environment()


__all__ = ["DuckDBWarehouse", "SliceKey", "Warehouse", "open_warehouse"]
