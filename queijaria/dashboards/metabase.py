"""`make dashboards`: the YAML dashboards provisioned into a running Metabase (v0.50 to v0.54 API).

Steps: MB_URL and the admin password checked before any request (Metabase's set-up refuses a password shorter
than 6 characters, without a digit or on its common list: passwords.py); first-run setup when Metabase is fresh
(GET /api/session/properties gives the setup token and shows MB_URL is a Metabase; POST /api/setup); a session or
the API key (metabase-api); the warehouse added as the read-only role (and synced when added or changed); a
collection, one native-query card per YAML card and one dashboard per file, pinned in the YAML's `order`
(collection_position), matched by name in the collection and updated in place only when they differ. Metabase
answers with defaults and keys of its own, so both sides are reduced to what provisioning manages before they are
compared: a second run sends no write request. A card that left the YAML is archived. Dashboards are written
through PUT /api/dashboard/:id with `dashcards` (negative ids for new ones): the endpoint metabase-api's
add_card_to_dashboard calls was removed in v0.47.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from metabase_api import Metabase_API

from queijaria.dashboards.passwords import password_problem
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


def check_settings(settings: MetabaseSettings) -> None:
    """The mistakes that need no request to see: a URL that is no http(s) address, an admin password that
    Metabase's first-run set-up would refuse. Run before any request, so the message names the real cause."""
    parts = urlsplit(settings.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MetabaseError(
            f"MB_URL={settings.url!r} is not the http(s) address of a Metabase (for example http://localhost:3000)"
        )
    if settings.password:
        problem = password_problem(settings.password)
        if problem:
            raise MetabaseError(
                f"MB_PASSWORD would be refused by Metabase as its admin's password: {problem} "
                "(POST /api/setup answers 'password is too common.'); choose another"
            )


def _response_of(error: BaseException) -> requests.Response | None:
    """metabase-api raises a bare Exception holding the failed response."""
    return error.args[0] if error.args and isinstance(error.args[0], requests.Response) else None


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


class Client:
    """JSON calls with one clear error each; the session (or the API key) goes through metabase-api."""

    def __init__(self, settings: MetabaseSettings, timeout: float = 60) -> None:
        check_settings(settings)
        self.url = settings.url.rstrip("/")
        self.timeout = timeout
        self.writes = 0
        properties = self._properties()
        self._first_run_setup(settings, properties)
        self.api = self._login(settings)

    def _unreachable(self, error: requests.RequestException) -> MetabaseError:
        # urllib3 wraps the socket's reason ("[Errno 111] Connection refused") in lines of its own: keep that part.
        errno = re.search(r"\[Errno [-\d]+\] ([^'\")\]]+)", str(error))
        reason = errno.group(1) if errno else f"{type(error).__name__}: {_one_line(str(error), 120)}"
        return MetabaseError(
            f"Metabase is not reachable at {self.url} (MB_URL; is `docker compose up -d` done?): {reason}"
        )

    def _properties(self) -> dict[str, Any]:
        """GET /api/session/properties, which every Metabase answers without a login: proof MB_URL is one."""
        endpoint = "/api/session/properties"
        try:
            response = requests.get(self.url + endpoint, timeout=self.timeout)
        except requests.RequestException as error:
            raise self._unreachable(error) from error
        try:
            properties = response.json() if response.ok else None
        except ValueError:
            properties = None
        if not isinstance(properties, dict) or not ({"version", "has-user-setup"} & properties.keys()):
            raise MetabaseError(
                f"MB_URL={self.url} does not answer as a Metabase: GET {endpoint} gave HTTP {response.status_code} "
                f"({response.headers.get('Content-Type') or 'no content type'}), not Metabase's settings"
            )
        return properties

    def _first_run_setup(self, settings: MetabaseSettings, properties: dict[str, Any]) -> None:
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
        try:
            response = requests.post(self.url + "/api/setup", json=body, timeout=self.timeout)
        except requests.RequestException as error:
            raise self._unreachable(error) from error
        if response.status_code == 400 and "password" in response.text:
            # Passed check_settings, so this Metabase asks for more (MB_PASSWORD_COMPLEXITY=strong, MB_PASSWORD_LENGTH).
            raise MetabaseError(
                f"Metabase at {self.url} refused MB_PASSWORD as its admin's password: {_one_line(response.text)} "
                "(its MB_PASSWORD_COMPLEXITY or MB_PASSWORD_LENGTH asks for more than the default); choose another"
            )
        self._checked(response, "POST", "/api/setup")

    def _login(self, settings: MetabaseSettings) -> Metabase_API:
        try:
            if settings.api_key:
                return Metabase_API(self.url, api_key=settings.api_key)
            return Metabase_API(self.url, email=settings.user, password=settings.password or "")
        except requests.RequestException as error:
            raise self._unreachable(error) from error
        except ValueError as error:  # metabase-api's answer to HTTP 401 on its API-key probe
            raise MetabaseError(f"Metabase at {self.url} refused the API key (MB_API_KEY): HTTP 401") from error
        except Exception as error:
            response = _response_of(error)
            if response is None:
                raise
            if response.status_code in (400, 401, 403):
                raise MetabaseError(
                    f"Metabase at {self.url} refused the login of {settings.user} (HTTP {response.status_code}): "
                    "check MB_USER and MB_PASSWORD"
                ) from error
            raise self._failed(response, "POST", "/api/session") from error

    def _failed(self, response: requests.Response, method: str, endpoint: str) -> MetabaseError:
        return MetabaseError(
            f"Metabase at {self.url} answered {method} {endpoint} with HTTP {response.status_code}: "
            f"{_one_line(response.text) or response.reason}"
        )

    def _checked(self, response: requests.Response, method: str, endpoint: str) -> Any:
        if not response.ok:
            raise self._failed(response, method, endpoint)
        try:
            return response.json() if response.content else None
        except ValueError as error:
            raise MetabaseError(
                f"Metabase at {self.url} answered {method} {endpoint} with something that is not JSON: "
                f"{_one_line(response.text, 120)}"
            ) from error

    def call(self, method: str, endpoint: str, body: Any = None) -> Any:
        if method != "GET":
            self.writes += 1
        call = {"GET": self.api.get, "POST": self.api.post, "PUT": self.api.put}[method]
        options: dict[str, Any] = {"timeout": self.timeout, **({"json": body} if body is not None else {})}
        try:
            response = call(endpoint, "raw", **options)
        except requests.RequestException as error:
            raise self._unreachable(error) from error
        except Exception as error:
            # metabase-api checks the session with GET /api/user/current first and raises its failed response.
            failed = _response_of(error)
            if failed is None:
                raise
            raise self._failed(failed, failed.request.method or "GET", urlsplit(failed.url).path) from error
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


# What provisioning manages of each object, in the shape Metabase stores: a payload and what Metabase returns for it
# compare equal once both go through these, whatever defaults, keys or key order Metabase adds. Anything else (the
# result metadata, a pin the user made on a card) is Metabase's or the user's and is left alone.
def _template_tag(tag: dict[str, Any]) -> dict[str, Any]:
    return {key: tag.get(key) for key in ("id", "name", "display-name", "type", "default")}


def comparable_card(card: dict[str, Any]) -> dict[str, Any]:
    query = card.get("dataset_query") or {}
    native = query.get("native") or {}
    return {
        "name": card.get("name"),
        "description": card.get("description") or None,
        "display": card.get("display"),
        "collection_id": card.get("collection_id"),
        "archived": bool(card.get("archived")),
        "dataset_query": {
            "type": query.get("type"),
            "database": query.get("database"),
            "query": native.get("query"),
            "template-tags": {
                name: _template_tag(tag) for name, tag in sorted((native.get("template-tags") or {}).items())
            },
        },
        "visualization_settings": card.get("visualization_settings") or {},
    }


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    return {key: parameter.get(key) for key in ("id", "name", "slug", "type", "sectionId", "default")}


def _mapping(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: mapping.get(key) for key in ("parameter_id", "card_id", "target")}


def _dashcard(dashcard: dict[str, Any]) -> dict[str, Any]:
    return {
        **{key: dashcard.get(key) for key in ("card_id", "row", "col", "size_x", "size_y")},
        "parameter_mappings": sorted(
            (_mapping(mapping) for mapping in dashcard.get("parameter_mappings") or []),
            key=lambda mapping: str(mapping["parameter_id"]),
        ),
    }


def comparable_dashboard(dashboard: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": dashboard.get("name"),
        "description": dashboard.get("description") or None,
        "collection_id": dashboard.get("collection_id"),
        "collection_position": dashboard.get("collection_position"),
        # Parameters keep their order (the filter bar's); dashcards are matched by card, whatever their order.
        "parameters": [_parameter(parameter) for parameter in dashboard.get("parameters") or []],
        "dashcards": sorted(
            (_dashcard(dashcard) for dashcard in dashboard.get("dashcards") or []),
            key=lambda dashcard: (dashcard["card_id"] is None, dashcard["card_id"] or 0, dashcard["row"] or 0),
        ),
    }


def provision(client: Client, dashboards: list[Dashboard], warehouse: Warehouse) -> dict[str, int]:
    database_id = _ensure_database(client, warehouse)
    collection_id = _ensure_collection(client)
    items = _data(client.call("GET", f"/api/collection/{collection_id}/items?models=card&models=dashboard"))
    cards_by_name = {item["name"]: item["id"] for item in items if item.get("model") == "card"}
    dashboards_by_name = {item["name"]: item["id"] for item in items if item.get("model") == "dashboard"}
    wanted_cards: set[str] = set()
    # In the YAML's `order`: the dashboard at rank n is pinned at collection_position n. Metabase shifts the other
    # pinned items when one moves; written first to last, every item lands on its rank (see _ensure_dashboard).
    ranked = sorted(dashboards, key=lambda item: (item.order, item.name))
    for position, dashboard in enumerate(ranked, start=1):
        card_ids = {}
        for card in dashboard.cards:
            payload = card_payload(dashboard, card, database_id, collection_id)
            wanted_cards.add(payload["name"])
            card_ids[card.title] = _upsert_card(client, cards_by_name.get(payload["name"]), payload)
        existing = dashboards_by_name.get(dashboard.name)
        _ensure_dashboard(client, dashboard, existing, collection_id, position, card_ids)
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
        # Metabase hides the stored password ("**MetabasePass**") and adds details of its own: compare the rest.
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


def _upsert_card(client: Client, existing_id: int | None, payload: dict[str, Any]) -> int:
    if existing_id is None:
        return client.call("POST", "/api/card", payload)["id"]
    current = client.call("GET", f"/api/card/{existing_id}")
    if comparable_card(current) != comparable_card(payload):
        client.call("PUT", f"/api/card/{existing_id}", payload)
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
    client: Client,
    dashboard: Dashboard,
    existing_id: int | None,
    collection_id: int,
    position: int,
    card_ids: dict[str, int],
) -> int:
    header = {
        "name": dashboard.name,
        "description": dashboard.description,
        "collection_id": collection_id,
        "collection_position": position,
    }
    if existing_id is None:
        existing_id = client.call("POST", "/api/dashboard", header)["id"]
    # Read after any write before it: Metabase may have moved this dashboard's position when another one moved.
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
    if comparable_dashboard(current) != comparable_dashboard(wanted):
        client.call("PUT", f"/api/dashboard/{existing_id}", wanted)
    return existing_id
