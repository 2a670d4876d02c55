"""Airflow DAG cost_rollups: attribution rollups per org and billing day, built from configs/rollups.yml."""

from cloudcost.airflow.rollups_dag import build_rollups_dag

dag = build_rollups_dag()
