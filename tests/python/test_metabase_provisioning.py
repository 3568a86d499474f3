"""`queijaria dashboards provision` against a local stand-in for Metabase v0.54 (no Metabase can run in the
tests): a threaded HTTP server on 127.0.0.1 that keeps state and answers the documented request and response
shapes of the endpoints the provisioning uses."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from support import free_port
from typer.testing import CliRunner, Result

from queijaria.cli import app
from queijaria.dashboards.metabase import Client, MetabaseError, MetabaseSettings, Warehouse, provision
from queijaria.dashboards.passwords import COMMON_PASSWORDS_FILE, password_problem
from queijaria.dashboards.spec import DASHBOARDS_DIR, load_dashboards

ADMIN = ("admin@queijaria.local", "Queijo-Minas-2026")
API_KEY = "mb_queijaria_test_key_1"
WAREHOUSE = Warehouse(host="postgres", port=5432, dbname="queijaria", user="metabase_reader", password="pw")
TRASH_ID = 9999

# What Metabase v0.54 stores for the keys a request leaves out (POST /api/card and /api/dashboard, the dashcards of
# PUT /api/dashboard/:id): the stand-in answers with them, as Metabase does, so provisioning must compare only what
# it manages.
CARD_DEFAULTS: dict[str, Any] = {
    "description": None,
    "archived": False,
    "archived_directly": False,
    "collection_position": None,
    "visualization_settings": {},
    "parameters": [],
    "parameter_mappings": [],
    "type": "question",
    "query_type": "native",
    "result_metadata": None,
    "cache_ttl": None,
    "enable_embedding": False,
    "embedding_params": None,
    "public_uuid": None,
    "made_public_by_id": None,
    "dashboard_id": None,
    "table_id": None,
    "can_write": True,
}
DASHBOARD_DEFAULTS: dict[str, Any] = {
    "description": None,
    "archived": False,
    "archived_directly": False,
    "collection_position": None,
    "parameters": [],
    "tabs": [],
    "width": "fixed",
    "auto_apply_filters": True,
    "cache_ttl": None,
    "enable_embedding": False,
    "embedding_params": None,
    "public_uuid": None,
    "made_public_by_id": None,
    "can_write": True,
}
DASHCARD_DEFAULTS: dict[str, Any] = {
    "visualization_settings": {},
    "series": [],
    "dashboard_tab_id": None,
    "action_id": None,
    "parameter_mappings": [],
}


def sorted_keys(value: Any) -> Any:
    """Metabase's JSON does not keep the request's key order."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def refused_password(password: str, length: int = 6) -> bool:
    """Metabase's rule at POST /api/setup (util/password.clj, default complexity): 6 characters, a digit, uncommon."""
    common = {line for line in COMMON_PASSWORDS_FILE.read_text().splitlines() if not line.startswith("#")}
    return len(password) < length or not any(char.isdigit() for char in password) or password.lower() in common


class StandIn:
    """Metabase's state: one admin, API keys, databases, collections, cards and dashboards; every request recorded."""

    def __init__(self) -> None:
        self.setup_token: str | None = "setup-token-1"
        self.sessions: set[str] = set()
        self.api_keys: set[str] = set()
        self.ids = itertools.count(1)
        self.databases: dict[int, dict[str, Any]] = {}
        self.collections: dict[int, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.dashboards: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.synced: list[int] = []
        # (method, route) -> HTTP status to answer once logged in: a Metabase in trouble.
        self.failures: dict[tuple[str, str], int] = {}
        self.password_length = 6  # MB_PASSWORD_LENGTH of the Metabase container

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        self.requests.append((method, path))
        route = path.split("?")[0]
        if route == "/api/session/properties":
            return 200, {
                "setup-token": self.setup_token,
                "has-user-setup": self.setup_token is None,
                "version": {"tag": "v0.54.1"},
            }
        if (method, route) == ("POST", "/api/setup"):
            return self._setup(body)
        if (method, route) == ("POST", "/api/session"):
            if self.setup_token is not None or (body["username"], body["password"]) != self.admin:
                return 401, {"errors": {"password": "did not match stored password"}}
            return 200, {"id": self._session()}
        key = headers.get("X-API-KEY")
        if (key is not None and key not in self.api_keys) or (
            key is None and headers.get("X-Metabase-Session") not in self.sessions
        ):
            return 401, "Unauthenticated"
        if (method, route) in self.failures:
            return self.failures[(method, route)], {"message": "ERROR: out of memory\n  at metabase.server", "via": []}
        return self._authenticated(method, route, body)

    def _setup(self, body: dict[str, Any]) -> tuple[int, Any]:
        errors = {}
        if body.get("token") != self.setup_token or self.setup_token is None:
            errors["token"] = "Token does not match the setup token."
        if refused_password(body["user"]["password"], self.password_length):
            errors["password"] = "password is too common."
        if errors:
            return 400, {"errors": errors}
        self.setup_token = None
        self.admin = (body["user"]["email"], body["user"]["password"])
        return 200, {"id": self._session()}

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
            database = self.databases.get(int(match.group(1)))
            if database is None:
                return 404, "Not found."
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
            return 200, self._items(int(match.group(1)))
        if route in ("/api/card", "/api/dashboard"):
            return self._post_item(route, body)
        if match := re.fullmatch(r"/api/(card|dashboard)/(\d+)", route):
            store = self.cards if match.group(1) == "card" else self.dashboards
            item = store.get(int(match.group(2)))
            if item is None:
                return 404, "Not found."
            if method == "PUT":
                return self._put_item(store, item, body)
            return 200, self._shown(item)
        return 404, "API endpoint does not exist."

    def _items(self, collection_id: int) -> dict[str, Any]:
        items = [
            {"id": item["id"], "name": item["name"], "model": model, "collection_position": item["collection_position"]}
            for model, store in (("card", self.cards), ("dashboard", self.dashboards))
            for item in store.values()
            if item["collection_id"] == collection_id and not item["archived"]
        ]
        return {"data": items, "total": len(items)}

    def _invalid(self, body: dict[str, Any], route: str) -> dict[str, str]:
        """The request schemas' checks that provisioning could trip (POST/PUT /api/card and /api/dashboard)."""
        errors = {}
        position = body.get("collection_position")
        if position is not None and (not isinstance(position, int) or position < 1):
            errors["collection_position"] = "nullable value must be an integer greater than zero."
        description = body.get("description")
        if route == "/api/card" and description is not None and not str(description).strip():
            errors["description"] = "nullable value must be a non-blank string."
        return errors

    def _post_item(self, route: str, body: dict[str, Any]) -> tuple[int, Any]:
        if route == "/api/card" and not (body.get("display") and isinstance(body.get("visualization_settings"), dict)):
            return 400, {"errors": {"display": "value must be a non-blank string."}}
        if errors := self._invalid(body, route):
            return 400, {"errors": errors}
        is_card = route == "/api/card"
        store = self.cards if is_card else self.dashboards
        defaults = CARD_DEFAULTS if is_card else DASHBOARD_DEFAULTS
        extra: dict[str, Any] = {"creator_id": 1, "entity_id": f"e{next(self.ids)}"}
        if is_card:
            extra["database_id"] = body["dataset_query"]["database"]
        else:
            extra["dashcards"] = []
        self._reconcile(body.get("collection_id"), None, body.get("collection_position"))
        return 200, self._shown(self._create(store, {**defaults, **body, **extra}))

    def _put_item(
        self, store: dict[int, dict[str, Any]], item: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, Any]:
        if errors := self._invalid(body, "/api/card" if store is self.cards else "/api/dashboard"):
            return 400, {"errors": errors}
        if "collection_position" in body:
            self._reconcile(item["collection_id"], item["collection_position"], body["collection_position"])
        if "dashcards" in body:
            body = {**body, "dashcards": self._dashcards(body["dashcards"], item)}
        if body.get("archived") and not item["archived"]:
            body = {**body, "archived_directly": True}
        item.update(sorted_keys(body))
        return 200, self._shown(item)

    def _reconcile(self, collection_id: int | None, old: int | None, new: int | None) -> None:
        """Metabase's api/maybe-reconcile-collection-position!: the other pinned items make room or close the gap."""
        if old == new or collection_id is None:
            return
        if new is None:
            shift, lowest, highest = -1, (old or 0) + 1, None
        elif old is None:
            shift, lowest, highest = 1, new, None
        elif new > old:
            shift, lowest, highest = -1, old, new
        else:
            shift, lowest, highest = 1, new, old
        for store in (self.cards, self.dashboards):
            for other in store.values():
                position = other["collection_position"]
                if other["collection_id"] != collection_id or position is None or position < lowest:
                    continue
                if highest is None or position <= highest:
                    other["collection_position"] = position + shift

    def _shown(self, item: dict[str, Any]) -> dict[str, Any]:
        shown = json.loads(json.dumps(item))
        if item.get("archived_directly"):
            shown["collection_id"] = TRASH_ID  # Metabase shows an archived item in the Trash
        return shown

    def _dashcards(self, dashcards: list[dict[str, Any]], dashboard: dict[str, Any]) -> list[dict[str, Any]]:
        """Negative ids are new dashcards; existing ids kept; those left out are deleted (as Metabase does)."""
        known = {dashcard["id"] for dashcard in dashboard["dashcards"]}
        saved = []
        for dashcard in dashcards:
            if dashcard["id"] >= 0 and dashcard["id"] not in known:
                raise AssertionError(f"unknown dashcard id {dashcard['id']}")
            new_id = dashcard["id"] if dashcard["id"] >= 0 else next(self.ids)
            card = self.cards[dashcard["card_id"]]
            saved.append(
                sorted_keys(
                    {**DASHCARD_DEFAULTS, **dashcard, "id": new_id, "dashboard_id": dashboard["id"], "card": card}
                )
            )
        return saved

    def _create(self, store: dict[int, dict[str, Any]], item: dict[str, Any]) -> dict[str, Any]:
        item_id = next(self.ids)
        store[item_id] = sorted_keys({**item, "id": item_id})
        return store[item_id]

    def writes(self) -> list[tuple[str, str]]:
        return [request for request in self.requests if request[0] != "GET"]


def serve(answer: Callable[[str, str, Any, dict[str, str]], tuple[int, Any, str]]) -> tuple[ThreadingHTTPServer, str]:
    """A threaded HTTP server on a free loopback port; `answer` gives (status, body, content type)."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            with lock:
                status, reply, content_type = answer(self.command, self.path, body, dict(self.headers))
            payload = (
                reply.encode()
                if isinstance(reply, str) and content_type != "application/json"
                else (json.dumps(reply).encode())
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _serve  # noqa: N815 (http.server dispatches on these names)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def metabase() -> Iterator[tuple[StandIn, str]]:
    state = StandIn()
    server, url = serve(lambda *request: (*state.handle(*request), "application/json"))
    yield state, url
    server.shutdown()
    server.server_close()


def settings(url: str, password: str = ADMIN[1]) -> MetabaseSettings:
    return MetabaseSettings(url=url, user=ADMIN[0], password=password)


def key_settings(url: str, api_key: str = API_KEY) -> MetabaseSettings:
    return MetabaseSettings(url=url, user=None, password=None, api_key=api_key)


def run_provision(url: str, **environ: str) -> Result:
    """`queijaria dashboards provision` as a user runs it (make dashboards), against `url`."""
    env = {"MB_URL": url, "MB_USER": ADMIN[0], "MB_PASSWORD": "", "MB_API_KEY": "", "MB_READER_PASSWORD": "pw"}
    return CliRunner().invoke(app, ["dashboards", "provision"], env={**env, **environ})


def assert_one_error_line(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0]


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


def test_a_second_run_sends_no_write_although_metabase_normalises(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    oee = next(card for card in state.cards.values() if card["name"] == "Overview · OEE")
    # The stand-in answers as Metabase does, not with what was sent: defaults filled, keys in its own order.
    assert oee["parameters"] == [] and oee["collection_position"] is None and oee["type"] == "question"
    assert list(oee) == sorted(oee)
    before = len(state.writes())
    counts = provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    assert state.writes()[before:] == [("POST", "/api/session")]
    assert counts["writes"] == 0


def test_a_card_changed_in_metabase_is_put_back_and_only_it(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    otif = next(card for card in state.cards.values() if card["name"] == "Overview · OTIF")
    wanted = otif["visualization_settings"]
    otif["visualization_settings"] = {**wanted, "card.title": "edited by hand"}  # an extra key, not a changed one
    before = len(state.writes())
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    assert state.writes()[before:] == [("POST", "/api/session"), ("PUT", f"/api/card/{otif['id']}")]
    assert otif["visualization_settings"] == wanted


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
    before = len(state.writes())
    assert provision(Client(settings(url)), load_dashboards(specs), WAREHOUSE)["writes"] == 0
    assert state.writes()[before:] == [("POST", "/api/session")]


def positions(state: StandIn) -> list[str]:
    pinned = [board for board in state.dashboards.values() if board["collection_position"] is not None]
    return [board["name"] for board in sorted(pinned, key=lambda board: board["collection_position"])]


def test_the_order_of_the_yaml_pins_the_dashboards_and_a_change_moves_them_in_place(
    metabase: tuple[StandIn, str], tmp_path: Path
) -> None:
    state, url = metabase
    dashboards = load_dashboards()
    provision(Client(settings(url)), dashboards, WAREHOUSE)
    in_order = [dashboard.name for dashboard in sorted(dashboards, key=lambda item: item.order)]
    assert positions(state) == in_order
    assert [board["collection_position"] for board in state.dashboards.values()] != [None] * len(dashboards)
    ids = {board["name"]: board["id"] for board in state.dashboards.values()}
    specs = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS_DIR, specs)
    for name, order in (("energy.yml", 0), ("overview.yml", 50)):  # Energy first, Overview last
        path = specs / name
        path.write_text(re.sub(r"(?m)^order: \d+$", f"order: {order}", path.read_text()))
    provision(Client(settings(url)), load_dashboards(specs), WAREHOUSE)
    moved = ["Energy", *[name for name in in_order if name not in ("Energy", "Overview")], "Overview"]
    assert positions(state) == moved
    assert [board["collection_position"] for board in state.dashboards.values()].count(None) == 0
    assert {board["name"]: board["id"] for board in state.dashboards.values()} == ids  # updated, not recreated
    assert provision(Client(settings(url)), load_dashboards(specs), WAREHOUSE)["writes"] == 0


def test_provisioning_with_an_api_key_end_to_end(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    Client(settings(url))  # the admin's first run; the API key is made afterwards in Metabase's admin settings
    state.api_keys.add(API_KEY)
    before = len(state.requests)
    counts = provision(Client(key_settings(url)), load_dashboards(), WAREHOUSE)
    assert counts["dashboards"] == len(state.dashboards) == len(load_dashboards())
    assert ("POST", "/api/session") not in state.requests[before:]
    again = len(state.writes())
    assert provision(Client(key_settings(url)), load_dashboards(), WAREHOUSE)["writes"] == 0
    assert state.writes()[again:] == []


def test_a_wrong_api_key_ends_in_one_clear_error(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    Client(settings(url))
    state.api_keys.add(API_KEY)
    result = run_provision(url, MB_API_KEY="mb_not_the_key")
    assert_one_error_line(result, f"Metabase at {url} refused the API key (MB_API_KEY): HTTP 401")
    assert not state.dashboards


def test_a_wrong_password_ends_in_one_clear_error(metabase: tuple[StandIn, str]) -> None:
    _state, url = metabase
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    with pytest.raises(MetabaseError, match=r"refused the login of admin@queijaria\.local \(HTTP 401\).*MB_PASSWORD"):
        Client(settings(url, password="wrong-password-7"))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("queijo", "at least 6 characters with at least one digit"),
        ("q1w2e", "at least 6 characters with at least one digit"),
        ("correct horse battery staple", "at least 6 characters with at least one digit"),
        ("Password1", "list of common passwords"),
        ("QWERTY123", "list of common passwords"),
    ],
)
def test_a_password_metabase_would_refuse_stops_make_dashboards_before_any_request(
    metabase: tuple[StandIn, str], password: str, reason: str
) -> None:
    state, url = metabase
    result = run_provision(url, MB_PASSWORD=password)
    assert_one_error_line(result, "MB_PASSWORD would be refused by Metabase", reason)
    assert state.requests == []
    assert state.setup_token is not None


@pytest.mark.parametrize(
    "password", ["queijo", "abc12", "password1", "Trustno1", "Queijo-Minas-2026", "minas-gerais-7"]
)
def test_the_check_agrees_with_metabases_setup(metabase: tuple[StandIn, str], password: str) -> None:
    state, url = metabase
    body = {"token": state.setup_token, "user": {"email": ADMIN[0], "password": password}, "prefs": {}}
    answer = requests.post(url + "/api/setup", json=body, timeout=10)
    assert (answer.status_code == 400) == (password_problem(password) is not None)
    if answer.status_code == 400:
        assert answer.json()["errors"] == {"password": "password is too common."}


def test_a_metabase_stricter_than_the_default_names_its_own_settings(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    state.password_length = 20
    with pytest.raises(MetabaseError, match=r"refused MB_PASSWORD.*password is too common\..*MB_PASSWORD_LENGTH"):
        Client(settings(url))
    assert state.setup_token is not None


def test_an_http_500_after_login_ends_in_one_line_naming_the_url_and_status(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    Client(settings(url))
    state.failures[("GET", "/api/collection")] = 500
    result = run_provision(url, MB_PASSWORD=ADMIN[1])
    assert_one_error_line(result, f"Metabase at {url} answered GET /api/collection with HTTP 500", "out of memory")


def test_an_http_500_on_the_session_check_is_one_clear_error_too(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    client = Client(settings(url))
    state.failures[("GET", "/api/user/current")] = 503
    with pytest.raises(
        MetabaseError, match=f"^Metabase at {re.escape(url)} answered GET /api/user/current with HTTP 503"
    ):
        client.call("GET", "/api/database")


def test_an_unreachable_metabase_is_named_by_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_provision(url, MB_API_KEY=API_KEY)
    assert_one_error_line(result, f"Metabase is not reachable at {url} (MB_URL")
    assert "MB_API_KEY" not in result.output


@pytest.mark.parametrize("url", ["localhost:3000", "ftp://localhost:3000", "http://", "metabase"])
def test_an_mb_url_that_is_no_http_address_is_blamed_before_any_request(url: str) -> None:
    result = run_provision(url, MB_API_KEY=API_KEY)
    assert_one_error_line(result, f"MB_URL={url!r} is not the http(s) address of a Metabase")


@pytest.mark.parametrize(
    ("status", "reply", "content_type"),
    [
        (200, "<html><body>Welcome to nginx!</body></html>", "text/html"),
        (404, "<html><body>Not Found</body></html>", "text/html"),
        (401, {"message": "Unauthorized"}, "application/json"),
        (200, {"status": "ok"}, "application/json"),
    ],
)
def test_an_mb_url_that_is_not_a_metabase_is_blamed_not_the_api_key(status: int, reply: Any, content_type: str) -> None:
    server, url = serve(lambda *_request: (status, reply, content_type))
    try:
        result = run_provision(url, MB_API_KEY=API_KEY)
    finally:
        server.shutdown()
        server.server_close()
    assert_one_error_line(result, f"MB_URL={url} does not answer as a Metabase", f"HTTP {status}")
    assert "MB_API_KEY" not in result.output


def test_ratio_cards_are_shown_as_percentages(metabase: tuple[StandIn, str]) -> None:
    state, url = metabase
    provision(Client(settings(url)), load_dashboards(), WAREHOUSE)
    otif = next(card for card in state.cards.values() if card["name"] == "Overview · OTIF")
    assert otif["visualization_settings"]["column_settings"] == {
        '["name","otif"]': {"number_style": "percent", "decimals": 1}
    }
