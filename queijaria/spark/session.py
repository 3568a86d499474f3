"""The local Spark session of the project: the same warehouse and metastore as dbt's `spark` target.

profiles.yml's `spark` output reads the same environment variables with the same defaults (relative to the
project's root, where make runs dbt): SPARK_WAREHOUSE_DIR (default .spark), SPARK_MASTER (local[2]),
SPARK_DRIVER_MEMORY (4g). pyspark is an optional extra: `make spark-install`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from queijaria import PROJECT_ROOT

LOG_CONFIG = Path(__file__).with_name("log4j2.properties")

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkUnavailableError(RuntimeError):
    """pyspark (the optional Spark extra) is not installed, or Java is missing."""


def warehouse_root() -> Path:
    return (PROJECT_ROOT / os.environ.get("SPARK_WAREHOUSE_DIR", ".spark")).resolve()


def session_settings() -> dict[str, str]:
    """What profiles.yml's `spark` output gives the session it starts (dbt-spark's server_side_parameters)."""
    root = warehouse_root()
    return {
        "spark.master": os.environ.get("SPARK_MASTER", "local[2]"),
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
        "spark.driver.memory": os.environ.get("SPARK_DRIVER_MEMORY", "4g"),
        # Plant timestamps have no time zone (PostgreSQL `timestamp`): a UTC session stores and shows them as read.
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        # Derby writes derby.log into the working directory unless told where; the log shows errors only.
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root} -Dlog4j2.configurationFile={LOG_CONFIG}",
        "spark.ui.showConsoleProgress": "false",
    }


def spark_session() -> SparkSession:
    # The project's session is local: bind it to loopback, as the embedded PostgreSQL is, without Spark's warning
    # that the host name resolves to it.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # pyspark warns on import that it does not list pandas 3 as supported; the loader does not use pandas.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SparkUnavailableError(
            "pyspark is not installed: `make spark-install` adds the Spark extra (dbt-spark, pyspark) to .venv"
        ) from error
    builder: Any = SparkSession.builder.appName("queijaria").enableHiveSupport()
    for key, value in session_settings().items():
        builder = builder.config(key, value)
    warehouse_root().mkdir(parents=True, exist_ok=True)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: no java, or too little memory
        raise SparkUnavailableError(f"the local Spark session did not start: {error}") from error
    session.sparkContext.setLogLevel("ERROR")
    return session
