"""Airflow DAG cloud_gcp_cost_billing: GCP billing to FOCUS 1.3, built from configs/cloud/gcp/cost/billing.yml."""

from cloudcost.airflow.billing_dag import build_billing_dag

dag = build_billing_dag("gcp")
