"""Airflow DAG cloud_aws_cost_billing: AWS billing to FOCUS 1.3, built from configs/cloud/aws/cost/billing.yml."""

from cloudcost.airflow.billing_dag import build_billing_dag

dag = build_billing_dag("aws")
