"""cloudcost: cloud billing exports to FOCUS 1.3, orchestrated by Airflow."""
