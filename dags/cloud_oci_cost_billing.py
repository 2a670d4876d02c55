"""Airflow DAG cloud_oci_cost_billing: OCI billing to FOCUS 1.3, built from configs/cloud/oci/cost/billing.yml."""

from cloudcost.airflow.billing_dag import build_billing_dag

dag = build_billing_dag("oci")
