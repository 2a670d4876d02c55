"""Airflow DAG cloud_azure_cost_billing: Azure billing to FOCUS 1.3, from configs/cloud/azure/cost/billing.yml."""

from cloudcost.airflow.billing_dag import build_billing_dag

dag = build_billing_dag("azure")
