"""`make dashboards`: the YAML dashboards provisioned into a running Metabase (v0.50 to v0.54 API).

Steps: first-run setup when Metabase is fresh (GET /api/session/properties gives the setup token; POST
/api/setup), a session (metabase-api), the warehouse added as the read-only role (and synced when added or
changed), a collection, one native-query card per YAML card and one dashboard per file, matched by name in
the collection and updated in place only when they differ. A second run sends no write request; a card
that left the YAML is archived. Dashboards are written through PUT /api/dashboard/:id with `dashcards`
(negative ids for new ones): the endpoint metabase-api's add_card_to_dashboard calls was removed in v0.47.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from metabase_api import Metabase_API

from queijaria.dashboards.spec import Card, Dashboard

DISPLAY = {"number": "scalar", "line": "line", "bar": "bar", "table": "table"}
PARAMETER_TYPES = {"text": ("string/=", "string"), "date": ("date/single", "date")}
TAG_NAMESPACE = uuid.UUID("6f1c1d4e-6a47-4a8e-9a43-0f4d7d2b9c11")
DATABASE_NAME = "Queijaria PCP warehouse"
COLLECTION_NAME = "Queijaria PCP"


class MetabaseError(RuntimeError):
    """Metabase cannot be reached, refused us, or answered something unexpected; the message says which."""


@dataclass(frozen=True)
class MetabaseSettings:
    url: str
    user: str | None
    password: str | None
    api_key: str | None = None
    site_name: str = "Queijaria PCP"


@dataclass(frozen=True)
class Warehouse:
    """How Metabase reaches PostgreSQL: from inside docker compose, the `postgres` service."""

    host: str
    port: int
    dbname: str
    user: str
    password: str

    def details(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
            "ssl": False,
        }


class Client:
    """JSON calls with one clear error each; the session comes from metabase-api."""

    def __init__(self, settings: MetabaseSettings) -> None:
        self.url = settings.url.rstrip("/")
        self.writes = 0
        try:
            self._first_run_setup(settings)
            if settings.api_key:
                self.api = Metabase_API(self.url, api_key=settings.api_key)
            else:
                self.api = Metabase_API(self.url, email=settings.user, password=settings.password or "")
        except requests.ConnectionError as error:
            raise MetabaseError(f"Metabase is not reachable at {self.url} (is `docker compose up -d` done?)") from error
        except ValueError as error:  # metabase-api's message for a wrong API key
            raise MetabaseError(f"Metabase at {self.url} refused the API key (MB_API_KEY): {error}") from error
        except Exception as error:
            response = error.args[0] if error.args and isinstance(error.args[0], requests.Response) else None
            if response is None:
                raise
            raise MetabaseError(
                f"Metabase at {self.url} refused the login of {settings.user} (HTTP {response.status_code}): "
                "check MB_USER and MB_PASSWORD"
            ) from error

    def _first_run_setup(self, settings: MetabaseSettings) -> None:
        properties = self._checked(
            requests.get(self.url + "/api/session/properties", timeout=30), "GET", "/api/session/properties"
        )
        token = properties.get("setup-token")
        if properties.get("has-user-setup", True) or not token:
            return
        if not (settings.user and settings.password):
            raise MetabaseError(f"Metabase at {self.url} is not set up yet: set MB_USER and MB_PASSWORD for its admin")
        body = {
            "token": token,
            "user": {
                "email": settings.user,
                "password": settings.password,
                "first_name": "Queijaria",
                "last_name": "Admin",
                "site_name": settings.site_name,
            },
            "prefs": {"site_name": settings.site_name, "site_locale": "en", "allow_tracking": False},
        }
        self.writes += 1
        self._checked(requests.post(self.url + "/api/setup", json=body, timeout=60), "POST", "/api/setup")

    def _checked(self, response: requests.Response, method: str, endpoint: str) -> Any:
        if not response.ok:
            raise MetabaseError(
                f"Metabase at {self.url} answered {method} {endpoint} with HTTP {response.status_code}: "
                f"{response.text[:300]}"
            )
        return response.json() if response.content else None

    def call(self, method: str, endpoint: str, body: Any = None) -> Any:
        if method != "GET":
            self.writes += 1
        call = {"GET": self.api.get, "POST": self.api.post, "PUT": self.api.put}[method]
        try:
            response = call(endpoint, "raw", json=body) if body is not None else call(endpoint, "raw")
        except requests.ConnectionError as error:
            raise MetabaseError(f"Metabase is not reachable at {self.url}") from error
        return self._checked(response, method, endpoint)


def _data(answer: Any) -> list[dict[str, Any]]:
    """Lists come bare or as {"data": [...]} depending on the endpoint and version."""
    return answer["data"] if isinstance(answer, dict) else answer


def contains(actual: Any, wanted: Any) -> bool:
    """True when everything in `wanted` is in `actual` (Metabase adds keys of its own to what it returns)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(contains(actual.get(key), value) for key, value in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(wanted)
            and all(contains(have, want) for have, want in zip(actual, wanted, strict=True))
        )
    return actual == wanted


def provision(client: Client, dashboards: list[Dashboard], warehouse: Warehouse) -> dict[str, int]:
    database_id = _ensure_database(client, warehouse)
    collection_id = _ensure_collection(client)
    items = _data(client.call("GET", f"/api/collection/{collection_id}/items?models=card&models=dashboard"))
    cards_by_name = {item["name"]: item["id"] for item in items if item.get("model") == "card"}
    dashboards_by_name = {item["name"]: item["id"] for item in items if item.get("model") == "dashboard"}
    wanted_cards: set[str] = set()
    for dashboard in dashboards:
        card_ids = {}
        for card in dashboard.cards:
            payload = card_payload(dashboard, card, database_id, collection_id)
            wanted_cards.add(payload["name"])
            card_ids[card.title] = _upsert(client, "card", cards_by_name.get(payload["name"]), payload)
        _ensure_dashboard(client, dashboard, dashboards_by_name.get(dashboard.name), collection_id, card_ids)
    archived = 0
    for name, card_id in sorted(cards_by_name.items()):
        if name not in wanted_cards:
            client.call("PUT", f"/api/card/{card_id}", {"archived": True})
            archived += 1
    return {"dashboards": len(dashboards), "cards": len(wanted_cards), "archived": archived, "writes": client.writes}


def _ensure_database(client: Client, warehouse: Warehouse) -> int:
    payload = {"name": DATABASE_NAME, "engine": "postgres", "details": warehouse.details()}
    existing = next((db for db in _data(client.call("GET", "/api/database")) if db["name"] == DATABASE_NAME), None)
    if existing is None:
        database_id = client.call("POST", "/api/database", payload)["id"]
    else:
        database_id = existing["id"]
        current = client.call("GET", f"/api/database/{database_id}")
        # Metabase hides the stored password ("**MetabasePass**"): compare everything else.
        visible = {key: value for key, value in warehouse.details().items() if key != "password"}
        if current.get("engine") == "postgres" and contains(current.get("details"), visible):
            return database_id
        client.call("PUT", f"/api/database/{database_id}", payload)
    client.call("POST", f"/api/database/{database_id}/sync_schema")
    return database_id


def _ensure_collection(client: Client) -> int:
    collections = _data(client.call("GET", "/api/collection"))
    existing = next(
        (item for item in collections if item.get("name") == COLLECTION_NAME and not item.get("archived")), None
    )
    if existing is not None:
        return existing["id"]
    return client.call("POST", "/api/collection", {"name": COLLECTION_NAME, "parent_id": None})["id"]


def _upsert(client: Client, kind: str, existing_id: int | None, payload: dict[str, Any]) -> int:
    if existing_id is None:
        return client.call("POST", f"/api/{kind}", payload)["id"]
    current = client.call("GET", f"/api/{kind}/{existing_id}")
    if not contains(current, payload):
        client.call("PUT", f"/api/{kind}/{existing_id}", payload)
    return existing_id


def card_payload(dashboard: Dashboard, card: Card, database_id: int, collection_id: int) -> dict[str, Any]:
    tags = {}
    for name in card.tags:
        item = dashboard.filter(name)
        assert item is not None  # the spec checks every tag is a filter
        tag = {
            "id": str(uuid.uuid5(TAG_NAMESPACE, f"{dashboard.slug}/{card.title}/{name}")),
            "name": name,
            "display-name": item.label,
            "type": item.type,
        }
        if item.default is not None:
            tag["default"] = item.default
        tags[name] = tag
    settings: dict[str, Any] = {}
    if card.format == "percent":
        shown = [card.value] if card.visualization == "number" else list(card.y)
        settings["column_settings"] = {
            json.dumps(["name", column], separators=(",", ":")): {"number_style": "percent", "decimals": 1}
            for column in shown
        }
    if card.visualization in ("line", "bar"):
        settings |= {
            "graph.dimensions": [card.x, *([card.series] if card.series else [])],
            "graph.metrics": list(card.y),
        }
    return {
        "name": f"{dashboard.name} · {card.title}",
        "description": f"From dashboards/{dashboard.path.name}; reads {', '.join(card.marts)}.",
        "display": DISPLAY[card.visualization],
        "collection_id": collection_id,
        "archived": False,
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {"query": card.sql, "template-tags": tags},
        },
        "visualization_settings": settings,
    }


def dashboard_parameters(dashboard: Dashboard) -> list[dict[str, Any]]:
    parameters = []
    for item in dashboard.filters:
        kind, section = PARAMETER_TYPES[item.type]
        parameter = {"id": item.name, "name": item.label, "slug": item.name, "type": kind, "sectionId": section}
        if item.default is not None:
            parameter["default"] = item.default
        parameters.append(parameter)
    return parameters


def _ensure_dashboard(
    client: Client, dashboard: Dashboard, existing_id: int | None, collection_id: int, card_ids: dict[str, int]
) -> int:
    header = {"name": dashboard.name, "description": dashboard.description, "collection_id": collection_id}
    if existing_id is None:
        existing_id = client.call("POST", "/api/dashboard", header)["id"]
        current: dict[str, Any] = {"dashcards": []}
    else:
        current = client.call("GET", f"/api/dashboard/{existing_id}")
    present = {dashcard["card_id"]: dashcard["id"] for dashcard in current.get("dashcards") or []}
    dashcards = []
    for index, card in enumerate(dashboard.cards, start=1):
        card_id = card_ids[card.title]
        spot = card.position
        dashcards.append(
            {
                "id": present.get(card_id, -index),
                "card_id": card_id,
                "row": spot.row,
                "col": spot.col,
                "size_x": spot.width,
                "size_y": spot.height,
                "parameter_mappings": [
                    {"parameter_id": tag, "card_id": card_id, "target": ["variable", ["template-tag", tag]]}
                    for tag in card.tags
                ],
            }
        )
    wanted = {**header, "parameters": dashboard_parameters(dashboard), "dashcards": dashcards}
    by_card = {dashcard["card_id"]: dashcard for dashcard in current.get("dashcards") or []}
    same_cards = len(by_card) == len(dashcards) and all(
        contains(by_card.get(dashcard["card_id"]), dashcard) for dashcard in dashcards
    )
    same_header = contains(current, {**header, "parameters": wanted["parameters"]})
    if not (same_cards and same_header):
        client.call("PUT", f"/api/dashboard/{existing_id}", wanted)
    return existing_id
