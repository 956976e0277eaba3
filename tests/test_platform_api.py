"""The platform's HTTP edge against a real server process: tokens (none, unknown, wrong scope,
another user's submission), the submitted endpoint really dialled (unreachable, privileged on
a real benchmark), schemathesis over the published /openapi.json (no 500 on generated inputs),
and the pages in a real headless browser (Debian's chromium via Playwright)."""

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, settings

import schemathesis
from platform_peers import PlatformServer, PolicyServer, free_port, seed_platform
from sim2real.platform.admin import add_benchmark
from sim2real.platform.db import open_database


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("platform-api")
    database = str(folder / "platform.sqlite")
    tokens = seed_platform(database)
    engine = open_database(database)
    add_benchmark(engine, "tiny-real", ["click_bell"], preset="smoke", kind="real", cameras=["head"], image_size=(32, 32))
    add_benchmark(engine, "tiny-vla", ["click_bell"], preset="smoke", kind="sim", cameras=["head"], image_size=(96, 96))
    engine.dispose()
    server = PlatformServer(database, folder, lease_seconds=30)  # online = spoke within 30 s
    policy = PolicyServer("expert", folder)
    server.database, server.folder = database, folder  # for the admin's command line
    yield server, policy, tokens
    policy.stop()
    server.stop()


def call(server, method, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_tokens_scopes_and_owners(live):
    server, policy, tokens = live
    submit = {"benchmark": "tiny", "policy": policy.url, "public": False}
    assert call(server, "POST", "/api/submissions", None, submit)[0] == 401
    status, reply = call(server, "POST", "/api/submissions", "s2r_not-a-token", submit)
    assert status == 401 and "unknown or revoked" in reply["error"]
    assert call(server, "POST", "/api/submissions", tokens["station"], submit)[0] == 403
    assert call(server, "POST", "/api/station/lease", tokens["alice"])[0] == 403
    status, mine = call(server, "POST", "/api/submissions", tokens["alice"], submit)
    assert status == 201 and mine["jobs"][0]["state"] == "queued", mine
    assert call(server, "GET", f"/api/submissions/{mine['id']}", tokens["bob"])[0] == 404  # private: not bob's
    assert call(server, "GET", f"/api/public/submissions/{mine['id']}")[0] == 404
    assert call(server, "POST", f"/api/submissions/{mine['id']}/cancel", tokens["bob"])[0] == 404
    status, cancelled = call(server, "POST", f"/api/submissions/{mine['id']}/cancel", tokens["alice"])
    assert status == 200 and cancelled["state"] == "cancelled"
    assert call(server, "GET", f"/api/submissions/{mine['id']}", tokens["admin"])[0] == 200
    status, reply = call(server, "POST", "/api/submissions", tokens["alice"], {**submit, "surprise": 1})
    assert status == 422  # unknown fields refused at the edge


def test_the_endpoint_is_dialled_before_scheduling(live):
    server, policy, tokens = live
    dead = f"ws://127.0.0.1:{free_port()}"
    status, reply = call(server, "POST", "/api/submissions", tokens["bob"], {"benchmark": "tiny", "policy": dead})
    assert status == 422 and reply["error"].startswith(f"the policy server at {dead} is not reachable")
    status, reply = call(server, "POST", "/api/submissions", tokens["bob"], {"benchmark": "tiny-real", "policy": policy.url})
    assert status == 422 and "invalid privileged: true" in reply["error"]  # the expert reads simulator state
    status, reply = call(server, "POST", "/api/submissions", tokens["bob"], {"benchmark": "tiny", "policy": "http://x"})
    assert status == 422 and "allowed: ws://HOST:PORT" in reply["error"]


def test_a_checkpoint_uploaded_stored_once_submitted_and_downloaded_by_stations(live, tmp_path, monkeypatch, capsys):
    """PUT /api/checkpoints (users), GET by digest (stations), a crafted pickle refused; `sim2real
    submit --checkpoint` uploads and submits; `platform admin seed-baselines` submits the expert and the stored checkpoint."""
    import hashlib
    import sys

    import torch

    from platform_peers import tiny_checkpoint
    from sim2real.cli.main import main
    from sim2real.platform.client import PlatformClient
    from sim2real.platform.errors import PlatformError
    from sim2real.policy.vla.checkpoint import FORMAT
    from test_checkpoint import RunsCode

    server, _policy, tokens = live
    path = tiny_checkpoint(tmp_path / "tiny.pt")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()

    def put(token, data):
        client = PlatformClient(server.url, token, retries=0)
        try:
            return 200, client.request("PUT", "/api/checkpoints", data=data, content_type="application/octet-stream")
        except PlatformError as error:
            return error.status, str(error)

    status, stored = put(tokens["alice"], path.read_bytes())
    assert status == 200 and stored["sha256"] == sha and stored["policy"] == f"checkpoint:sha256:{sha}"
    assert put(tokens["bob"], path.read_bytes())[1] == stored  # the same bytes: stored once
    assert put(tokens["station"], path.read_bytes())[0] == 403
    crafted = tmp_path / "crafted.pt"
    torch.save({"format": FORMAT, "hook": RunsCode(tmp_path / "code-ran")}, crafted)
    status, said = put(tokens["alice"], crafted.read_bytes())
    assert status == 422 and "pickled Python objects" in said and not (tmp_path / "code-ran").exists()

    PlatformClient(server.url, tokens["station"]).request("GET", f"/api/checkpoints/{sha}", sink=tmp_path / "got.pt")
    assert (tmp_path / "got.pt").read_bytes() == path.read_bytes()
    assert call(server, "GET", f"/api/checkpoints/{sha}", tokens["alice"])[0] == 403  # users upload, stations read

    def sim2real(*args):
        monkeypatch.setattr(sys, "argv", ["sim2real", *args])
        with pytest.raises(SystemExit) as exit_:
            main()
        captured = capsys.readouterr()
        assert exit_.value.code == 0, captured.err
        return json.loads(captured.out)

    reply = sim2real("submit", "--server", server.url, "--token", tokens["bob"], "--checkpoint", str(path),
                     "--benchmark", "tiny-vla", "--json")
    assert reply["endpoint"] == stored["policy"] and reply["name"] == "reference-vla-tiny-continuous"
    assert reply["jobs"][0]["state"] == "queued" and reply["jobs"][0]["reason"]
    seed = ("platform", "admin", "seed-baselines", "--db", server.database, "--benchmark", "tiny-vla",
            "--vla", str(path), "--checkpoints", str(server.folder / "checkpoints"), "--json")
    seeded = sim2real(*seed)["baselines"]  # (seeding twice adds nothing: test_platform_checkpoints)
    assert [(b["baseline"], b["policy"], b["created"]) for b in seeded] == [
        ("expert", "builtin:expert", True), ("reference VLA", stored["policy"], True)]


def test_generated_requests_never_get_a_500(live):
    """Every operation of the published schema, 8 generated requests each (derandomized), valid
    ones and ones that break the schema."""
    from hypothesis import given

    server, _policy, tokens = live
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    statuses: list[int] = []
    for operation in operations:
        if operation.path == "/api/submissions" and operation.method.upper() == "POST":
            continue  # would dial generated URLs; real submissions are tested above
        station = "/station/" in operation.path or operation.path.endswith(("/trials", "/finish", "/video"))
        token = tokens["station"] if station else tokens["alice"]

        @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE)
               | operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                                              checks=[schemathesis.checks.not_a_server_error])
            statuses.append(response.status_code)

        check()
    assert len(statuses) >= 40 and 422 in statuses and max(statuses) < 500  # it really sent them


def test_pages_in_a_browser(live, tmp_path):
    """A submission whose trials a station recorded: the leaderboard ranks it with its interval,
    its page lists the job and the trials, the station dashboard shows the station online."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from sim2real.platform.service import Platform

    server, policy, tokens = live
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it)")
    status, submission = call(server, "POST", "/api/submissions", tokens["alice"],
                              {"benchmark": "tiny", "policy": policy.url, "name": "browser-check"})
    assert status == 201, submission
    leased = call(server, "POST", "/api/station/lease", tokens["station"])[1]["job"]
    while leased["submission"] != submission["id"]:  # earlier tests' jobs: close them as failed
        call(server, "POST", f"/api/jobs/{leased['id']}/finish", tokens["station"],
             {"lease": leased["lease"], "error": "not this test's"})
        leased = call(server, "POST", "/api/station/lease", tokens["station"])[1]["job"]
    for index in range(leased["planned"]):
        status, _ = call(server, "POST", f"/api/jobs/{leased['id']}/trials", tokens["station"],
                         {"lease": leased["lease"], "index": index, "idempotency_key": f"page-{index}-{leased['lease']}",
                          "success": index != 2, "steps": 100 + index})
        assert status == 201
    assert call(server, "POST", f"/api/jobs/{leased['id']}/finish", tokens["station"],
                {"lease": leased["lease"]})[1]["state"] == "done"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium),
                                             args=["--no-sandbox", "--headless", "--disable-gpu"])
        page = browser.new_page()
        page.goto(server.url + "/")
        row = page.locator(f"#board-tiny tr.entry[data-submission='{submission['id']}']")
        assert "browser-check" in row.inner_text() and "80%" in row.locator(".pooled").inner_text()
        assert "4/5" in row.locator(".pooled").inner_text()
        row.locator("a").click()
        page.wait_for_selector("#submission[data-state='done']")
        assert page.locator("tr.job[data-state='done']").count() == 1
        assert page.locator("tr.trial").count() == 5 and page.locator("tr.trial td.fail").count() == 1
        assert "base" in page.locator("table.conditions").inner_text()
        page.goto(server.url + "/stations")
        assert page.locator("tr.station[data-station='sim-1']").get_attribute("data-status") == "online"
        browser.close()


def test_rate_limit_per_token(tmp_path):
    database = str(tmp_path / "platform.sqlite")
    tokens = seed_platform(database)
    server = PlatformServer(database, tmp_path, rate_limit=5)
    try:
        statuses = [call(server, "GET", "/api/submissions", tokens["alice"])[0] for _ in range(6)]
        other = call(server, "GET", "/api/submissions", tokens["bob"])[0]  # bob's own allowance
        status, reply = call(server, "GET", "/api/submissions", tokens["alice"])
    finally:
        server.stop()
    assert statuses == [200] * 5 + [429] and other == 200
    assert status == 429 and "over 5 requests per 60 s" in reply["error"]
