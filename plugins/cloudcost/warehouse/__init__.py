"""Warehouse back ends behind one small interface: DuckDB (embedded default) and BigQuery."""

from cloudcost.warehouse.base import SliceKey, Warehouse
from cloudcost.warehouse.duckdb import DuckDBWarehouse


def open_warehouse() -> Warehouse:
    """The configured warehouse: ``configs/warehouse.yml`` (or ``CLOUDCOST_WAREHOUSE_BACKEND``) picks it;
    without either, the DuckDB file of ``CLOUDCOST_WAREHOUSE``."""
    from cloudcost.config import load_warehouse_config

    config = load_warehouse_config()
    if config.warehouse == "bigquery" and config.bigquery is not None:
        from cloudcost.warehouse.bigquery import BigQueryWarehouse

        return BigQueryWarehouse.from_settings(config.bigquery, config.duckdb)
    return DuckDBWarehouse.from_environment(config.duckdb)


__all__ = ["DuckDBWarehouse", "SliceKey", "Warehouse", "open_warehouse"]
