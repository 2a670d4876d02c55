"""A database URL must name a driver this venv can import, or Airflow fails far from the cause.

SQLAlchemy 2.1 made psycopg 3 the default driver of ``postgresql://``; our venv has psycopg2. A Celery result
backend of ``db+postgresql://…`` therefore makes every worker exit at startup with a message about Airflow
versions, not about the driver. Each URL we write or ship is checked here, naming the key that holds it.
"""

from __future__ import annotations


class MissingDriver(ValueError):
    """The URL's database driver does not import in this environment."""


def require_importable_driver(key: str, url: str) -> str:
    """``url`` unchanged if its SQLAlchemy dialect and DBAPI import (a Celery ``db+`` prefix is stripped);
    ``MissingDriver`` naming ``key``, the driver and the fix otherwise. Nothing connects."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url.removeprefix("db+"))
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except ImportError as exc:
        raise MissingDriver(
            f"{key}: {parsed.render_as_string(hide_password=True)} needs the driver "
            f"{parsed.get_backend_name()}+{parsed.get_driver_name()}, which is not installed ({exc}); name an "
            "installed one, e.g. postgresql+psycopg2://"
        ) from None
    return url
