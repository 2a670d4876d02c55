"""The stages one DAG run performs for one org: land raw, convert to FOCUS, check. Airflow-free."""
