# cloudcost on Airflow 3: the official Airflow image plus our pinned requirements and code.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt /opt/cloudcost/requirements.txt
RUN pip install --no-cache-dir -r /opt/cloudcost/requirements.txt
COPY --chown=airflow:root pyproject.toml /opt/cloudcost/
COPY --chown=airflow:root plugins /opt/airflow/plugins
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root procedures /opt/cloudcost/procedures
COPY --chown=airflow:root schemas /opt/cloudcost/schemas
COPY --chown=airflow:root configs /opt/cloudcost/configs
