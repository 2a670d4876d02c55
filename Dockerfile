# cloudcost on Airflow 3: Python 3.11 with exactly the pinned requirements.txt the tests run on (Airflow
# 3.3.2, its Celery provider, psycopg2 and asyncpg for Postgres), and the project laid out as in the repo
# under /opt/cloudcost, so the code finds configs/, schemas/ and procedures/ beside plugins/
# (cloudcost.paths.REPO_ROOT). Used by docker-compose.yaml; see docs/operations.md.
# Not built on the project's machines (no Docker engine there): tests/unit/test_compose.py checks what
# can be checked without one.
FROM python:3.11-slim-bookworm

ENV AIRFLOW_HOME=/opt/airflow \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The user docker-compose.yaml runs as (AIRFLOW_UID); group 0, so another uid given at run time can write too.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow

WORKDIR /opt/cloudcost
# Every package is pinned (`make lock`); uv installs the same set as `make install` does in .venv.
COPY requirements.txt ./
RUN pip install uv==0.13.9 \
    && uv pip install --system --no-cache -r requirements.txt

COPY pyproject.toml ./
COPY plugins ./plugins
COPY dags ./dags
COPY procedures ./procedures
COPY schemas ./schemas
COPY configs ./configs
# Editable: the `cloudcost` command and package point at /opt/cloudcost/plugins, also when the compose file
# mounts the checkout's plugins/ over it.
RUN uv pip install --system --no-cache --no-deps -e . \
    && mkdir -p /opt/cloudcost/data /opt/cloudcost/snapshot /opt/airflow/logs /opt/airflow/auth \
    && chown -R 50000:0 /opt/cloudcost/data /opt/cloudcost/snapshot /opt/airflow \
    && chmod -R g+rwX /opt/cloudcost/data /opt/cloudcost/snapshot /opt/airflow

USER 50000
EXPOSE 8080
CMD ["airflow", "version"]
