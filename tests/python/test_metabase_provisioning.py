"""`queijaria dashboards provision` against a local stand-in for Metabase v0.54 (no Metabase can run in the
tests): a threaded HTTP server on 127.0.0.1 that keeps state and answers the documented request and response
shapes of the endpoints the provisioning uses."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import free_port

from queijaria.dashboards.metabase import Client, MetabaseError, MetabaseSettings, Warehouse, provision
from queijaria.dashboards.spec import DASHBOARDS_DIR, load_dashboards

ADMIN = ("admin@queijaria.local", "correct horse battery staple")
WAREHOUSE = Warehouse(host="postgres", port=5432, dbname="queijaria", user="metabase_reader", password="pw")


class StandIn:
    """Metabase's state: one admin, databases, collections, cards and dashboards; every request recorded."""

    def __init__(self) -> None:
        self.setup_token: str | None = "setup-token-1"
        self.sessions: set[str] = set()
        self.ids = itertools.count(1)
        self.databases: dict[int, dict[str, Any]] = {}
        self.collections: dict[int, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.dashboards: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.synced: list[int] = []

    def handle(self, method: str, path: str, body: Any, session: str | None) -> tuple[int, Any]:
        self.requests.append((method, path))
        route = path.split("?")[0]
        if route == "/api/session/properties":
            return 200, {"setup-token": self.setup_token, "has-user-setup": self.setup_token is None}
        if (method, route) == ("POST", "/api/setup"):
            if body.get("token") != self.setup_token:
                return 403, {"message": "Token does not match the setup token."}
            self.setup_token = None
            self.admin = (body["user"]["email"], body["user"]["password"])
            return 200, {"id": self._session()}
        if (method, route) == ("POST", "/api/session"):
            if self.setup_token is not None or (body["username"], body["password"]) != self.admin:
                return 401, {"errors": {"password": "did not match stored password"}}
            return 200, {"id": self._session()}
        if session not in self.sessions:
            return 401, "Unauthenticated"
        return self._authenticated(method, route, body)

    def _session(self) -> str:
        session = f"session-{next(self.ids)}"
        self.sessions.add(session)
        return session

    def _authenticated(self, method: str, route: str, body: Any) -> tuple[int, Any]:
        if route == "/api/user/current":
            return 200, {"id": 1, "email": self.admin[0]}
        if route == "/api/database":
            if method == "GET":
                return 200, {"data": list(self.databases.values()), "total": len(self.databases)}
            return 200, self._create(self.databases, {**body, "details": dict(body["details"])})
        if match := re.fullmatch(r"/api/database/(\d+)(/sync_schema)?", route):
            database = self.databases[int(match.group(1))]
            if match.group(2):
                self.synced.append(database["id"])
                return 200, {"status": "ok"}
            if method == "PUT":
                database.update(body)
            shown = {**database, "details": {**database["details"], "password": "**MetabasePass**"}}
            return 200, shown
        if route == "/api/collection":
            if method == "GET":
                return 200, [{"id": "root", "name": "Our analytics"}, *self.collections.values()]
            return 200, self._create(self.collections, {**body, "archived": False})
        if match := re.fullmatch(r"/api/collection/(\d+)/items", route):
            collection_id = int(match.group(1))
            items = [
                {"id": item["id"], "name": item["name"], "model": model}
                for model, store in (("card", self.cards), ("dashboard", self.dashboards))
                for item in store.values()
                if item["collection_id"] == collection_id and not item.get("archived")
            ]
            return 200, {"data": items, "total": len(items)}
        if route in ("/api/card", "/api/dashboard"):
            store = self.cards if route == "/api/card" else self.dashboards
            extra = {"archived": False, "creator_id": 1, "entity_id": f"e{next(self.ids)}"}
            if store is self.dashboards:
                extra |= {"dashcards": [], "parameters": body.get("parameters", [])}
            return 200, self._create(store, {**body, **extra})
        if match := re.fullmatch(r"/api/(card|dashboard)/(\d+)", route):
            store = self.cards if match.group(1) == "card" else self.dashboards
            item = store[int(match.group(2))]
            if method == "PUT":
                if "dashcards" in body:
                    body = {**body, "dashcards": self._dashcards(body["dashcards"], item)}
                item.update(body)
            return 200, item
        return 404, "API endpoint does not exist."

    def _dashcards(self, dashcards: list[dict[str, Any]], dashboard: dict[str, Any]) -> list[dict[str, Any]]:
        """Negative ids are new dashcards; existing ids kept; those left out are deleted (as Metabase does)."""
        known = {dashcard["id"] for dashcard in dashboard["dashcards"]}
        saved = []
        for dashcard in dashcards:
            if dashcard["id"] >= 0 and dashcard["id"] not in known:
                raise AssertionError(f"unknown dashcard id {dashcard['id']}")
            new_id = dashcard["id"] if dashcard["id"] >= 0 else next(self.ids)
            saved.append({**dashcard, "id": new_id, "dashboard_id": dashboard["id"], "card": {}})
        return saved

    def _create(self, store: dict[int, dict[str, Any]], item: dict[str, Any]) -> dict[str, Any]:
        item_id = next(self.ids)
        store[item_id] = {**item, "id": item_id}
        return store[item_id]

    def writes(self) -> list[tuple[str, str]]:
        return [request for request in self.requests if request[0] != "GET"]


@pytest.fixture
def metabase() -> Iterator[tuple[StandIn, str]]:
    state = StandIn()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            with lock:
                status, answer = state.handle(self.command, self.path, body, self.headers.get("X-Metabase-Session"))
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _serve  # noqa: N815 (http.server dispatches on these names)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def settings(url: str, password: str = ADMIN[1]) -> MetabaseSettings:
    return MetabaseSettings(url=url, user=ADMIN[0], password=password)


def test_first_run_sets_up_metabase_and_creates_every_dashboard(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    dashboards = load_dashboards()
    counts = provision(Client(settings(url)), dashboards, WAREHOUSE)
    assert state.setup_token is None
    assert [database["details"]["user"] for database in state.databases.values()] == ["metabase_reader"]
    assert state.synced == list(state.databases)
    assert counts["cards"] == sum(len(dashboard.cards) for dashboard in dashboards) == len(state.cards)
    by_name = {dashboard["name"]: dashboard for dashboard in state.dashboards.values()}
    assert set(by_name) == {dashboard.name for dashboard in dashboards}
    overview = by_name["Overview"]
    assert {parameter["slug"] for parameter in overview["parameters"]} == {"scenario", "line", "start_date", "end_date"}
    oee = next(card for card in state.cards.values() if card["name"] == "Overview · OEE")
    assert oee["display"] == "scalar"
    assert set(oee["dataset_query"]["native"]["template-tags"]) == {"scenario", "line", "start_date", "end_date"}
    dashcard = next(dashcard for dashcard in overview["dashcards"] if dashcard["card_id"] == oee["id"])
    assert {"parameter_id": "line", "card_id": oee["id"], "target": ["variable", ["template-tag", "line"]]} in (
        dashcard["parameter_mappings"]
    )


def test_a_second_run_sends_no_write(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    before = len(state.writes())
    counts = provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    assert state.writes()[before:] == [("POST", "/api/session")]
    assert counts["writes"] == 0


def test_a_card_removed_from_the_yaml_is_archived_and_an_edit_updates_in_place(
    metabase: tuple[StandIn, str], tmp_path: Path
) -> None:
    state, url = metabase
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    specs = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS_DIR, specs)
    energy = specs / "energy.yml"
    text = energy.read_text()
    energy.write_text(text[: text.index("  - title: Cost per meter")].replace("Ponta share", "Share of ponta kWh"))
    card_count = len(state.cards)
    counts = provision(Client(settings(url)), load_dashboards(specs), WAREHOUSE)
    assert counts["archived"] == 2  # "Cost per meter" left, "Ponta share" was renamed
    archived = sorted(card["name"] for card in state.cards.values() if card.get("archived"))
    assert archived == ["Energy · Cost per meter", "Energy · Ponta share"]
    assert len(state.cards) == card_count + 1
    energy_board = next(board for board in state.dashboards.values() if board["name"] == "Energy")
    live = {card["id"] for card in state.cards.values() if not card.get("archived")}
    assert {dashcard["card_id"] for dashcard in energy_board["dashcards"]} <= live
    assert len(energy_board["dashcards"]) == 4


def test_a_wrong_password_ends_in_one_clear_error(metabase: tuple[StandIn, str]) -> None:
    _state, url = metabase
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    with pytest.raises(MetabaseError, match=r"refused the login of admin@queijaria\.local \(HTTP 401\).*MB_PASSWORD"):
        Client(settings(url, password="wrong"))


def test_an_unreachable_metabase_is_named_by_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MetabaseError, match=f"Metabase is not reachable at {re.escape(url)}"):
        Client(settings(url))


def test_ratio_cards_are_shown_as_percentages(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    otif = next(card for card in state.cards.values() if card["name"] == "Overview · OTIF")
    assert otif["visualization_settings"]["column_settings"] == {
        '["name","otif"]': {"number_style": "percent", "decimals": 1}
    }
