"""dbt inside the flow: one in-process invocation per step, and one Prefect event per dbt node it ran.

prefect-dbt's PrefectDbtRunner makes every node a Prefect task of its own. Measured here on the plant-year of five
scenarios (794 nodes, 2 cores): the same `dbt build` took 114-124 s through it against 44 s in plain dbt, the
Prefect task machinery using more CPU than dbt and PostgreSQL together. A daily run must cost a fraction of a full
build, so the build step runs dbt's own `dbtRunner` and turns each node's result into one event instead
(`dbt.node.<status>`, the node as its resource, related to the flow run): the Prefect UI's event feed shows every
node, its status and time, at the cost of a message. The freshness step, with one node per source table, goes
through PrefectDbtRunner (flows/daily.py).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dbt.cli.main import dbtRunner
from dbt_common.events.base_types import EventMsg
from google.protobuf.json_format import MessageToDict

from queijaria import PROJECT_ROOT

FAILED = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    execution_time_s: float
    message: str


@dataclass
class DbtOutcome:
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None

    def failures(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.status in FAILED]


class _NodeCollector:
    """dbt calls back from its worker threads: each finished node is kept (and shown) as it ends."""

    def __init__(self, echo: bool):
        self.nodes: list[NodeResult] = []
        self.echo = echo
        self._lock = threading.Lock()

    def __call__(self, event: EventMsg) -> None:
        if event.info.name != "NodeFinished":
            return
        data = MessageToDict(event.data, preserving_proto_field_name=True)
        node_info, run_result = data.get("node_info", {}), data.get("run_result", {})
        node = NodeResult(
            unique_id=node_info.get("unique_id", "?"),
            status=str(run_result.get("status", node_info.get("node_status", "?"))).lower(),
            execution_time_s=float(run_result.get("execution_time", 0.0)),
            message=" ".join(str(run_result.get("message") or "").split())[:500],
        )
        with self._lock:
            self.nodes.append(node)
            if self.echo and node.status in FAILED:
                print(f"  dbt {node.status}: {node.unique_id}: {node.message}", file=sys.stderr, flush=True)


def run_dbt(args: list[str], target_path: Path, *, echo: bool = True) -> DbtOutcome:
    """`dbt <args>` on this project, in this process; what every node did, and whether the command succeeded."""
    collector = _NodeCollector(echo)
    arguments = [
        *args,
        "--project-dir", str(PROJECT_ROOT),
        "--profiles-dir", str(PROJECT_ROOT),
        "--target-path", str(target_path),
        "--log-path", str(target_path / "logs"),
        "--log-level", "warn" if echo else "none",
    ]  # fmt: skip
    result = dbtRunner(callbacks=[collector]).invoke(arguments)
    error = None if result.exception is None else " ".join(str(result.exception).split())
    return DbtOutcome(success=bool(result.success), nodes=collector.nodes, error=error)


def emit_node_events(outcome: DbtOutcome, command: str) -> None:
    """One Prefect event per node (called in the task's own thread, so each is related to its flow and task run)."""
    from prefect.events import emit_event

    for node in outcome.nodes:
        resource_type, _, package_and_name = node.unique_id.partition(".")
        emit_event(
            event=f"dbt.node.{node.status.replace(' ', '_')}",
            resource={
                "prefect.resource.id": f"dbt.{node.unique_id}",
                "prefect.resource.name": package_and_name.partition(".")[2] or node.unique_id,
                "dbt.resource_type": resource_type,
                "dbt.command": command,
            },
            payload={"execution_time_s": node.execution_time_s, "message": node.message},
        )
