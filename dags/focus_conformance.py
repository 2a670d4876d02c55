"""Airflow DAG focus_conformance: weekly FOCUS referee per org, with a memory of every rule's result."""

from cloudcost.airflow.conformance_dag import build_conformance_dag

dag = build_conformance_dag()
