"""Fixtures of the Spark tests (`make test-spark`): one small generated plant and one local Spark session per run.

The session is shared: Spark's Hive metastore (Derby, embedded) lets one JVM open a warehouse, and dbt-spark's
`session` connection, run in this process, joins the session already started (same warehouse) instead of
starting another.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from spark_support import GENERATE_ARGS, QUEIJARIA

from queijaria import PROJECT_ROOT


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spark_generated") / "generated"
    subprocess.run([QUEIJARIA, "generate", *GENERATE_ARGS, "--out", str(out), "--quiet"], check=True, cwd=PROJECT_ROOT)
    return out


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    # pyspark hands timestamps to Python in the process's time zone; the plant's have none (UTC in the session).
    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ["SPARK_WAREHOUSE_DIR"] = str(tmp_path_factory.mktemp("spark_warehouse"))
    from queijaria.spark.session import spark_session

    session = spark_session()
    yield session
    session.stop()
