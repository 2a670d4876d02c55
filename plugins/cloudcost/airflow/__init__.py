"""Every module that imports Airflow: the DAG builders, the org param and run conf, the sensors, the
timetable, the run-note listener and the local Airflow home. The rest of ``cloudcost`` imports no Airflow,
so the pipeline can be driven and tested without it."""
