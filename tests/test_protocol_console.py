"""The operator console in a real headless browser (Debian's chromium driven by Playwright) on
SQLite and on a real PostgreSQL: outcomes by keyboard and by click, abort-and-redo, a double
submit refused, the server killed with SIGKILL mid-campaign and restarted, and the campaign
resumed with nothing lost or duplicated; then a correction on the history page."""

import os
import urllib.request
from pathlib import Path

import pytest

from peers import HttpServer
from sim2real.protocol.db import open_store
from sim2real.protocol.plan import load_plan, make_plan
from sim2real.protocol.preset import load_preset

CHROMIUM = Path("/usr/bin/chromium")
SIM_ROBOT = Path(__file__).resolve().parents[1] / "configs" / "robots" / "sim.yaml"
BROWSER_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


class Console(HttpServer):
    """`sim2real protocol console` as its own process on 127.0.0.1."""

    def __init__(self, *args: str) -> None:
        super().__init__("protocol", "console", *args, what="the console")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield chromium
        chromium.close()


def shown(page) -> tuple[int, str]:
    section = page.locator("#trial")
    return int(section.get_attribute("data-trial")), section.get_attribute("data-policy")


def test_console_records_resumes_after_sigkill_and_loses_nothing(browser, database, tmp_path):
    plan_file = make_plan(load_preset("smoke"), "click_bell", seed=0).save(tmp_path / "plan.json")
    plan = load_plan(plan_file)
    args = ["--plan", str(plan_file), "--db", database, "--policy", "A=zero", "--policy", "B=zero",
            "--operator", "ana"]
    with open_store(database) as store:
        order = [(s.trial, s.policy) for s in store.slots(plan, ["A", "B"])]
    assert len(order) == 10

    console = Console(*args)
    page = browser.new_page()
    try:
        page.goto(console.url)
        seen = []
        assert shown(page) == order[0]
        assert page.inner_text("#policy") == f"policy {order[0][1]}: zero"  # the current policy and its spec
        page.fill("#notes", "rang at once")
        page.fill("#progress", "100")
        page.keyboard.press("Escape")
        page.keyboard.press("s")  # success by keyboard
        page.wait_for_selector("#message")
        seen.append((order[0], True))
        assert shown(page) == order[1]
        page.click("#failure")  # failure by click
        page.wait_for_selector("#message")
        seen.append((order[1], False))
        assert shown(page) == order[2]
        # a stale second submit of a recorded trial (another tab, a double click) is refused
        response = page.request.post(console.url + "/outcome", form={
            "trial": str(order[1][0]), "policy": order[1][1], "result": "success"}, max_redirects=0)
        assert response.status == 303 and "already" in urllib.request.unquote(response.headers["location"])
        # abort-and-redo: the reason is required, and the same trial comes back
        page.fill("#reason", "bell slid when the arm came home")
        page.keyboard.press("Escape")
        page.keyboard.press("a")
        page.wait_for_selector("#message")
        assert "aborted" in page.inner_text("#message") and shown(page) == order[2]
        page.keyboard.press("s")
        page.wait_for_selector("#message")
        seen.append((order[2], True))
        assert shown(page) == order[3]
        assert "3 / 10" in page.inner_text("#progress-text")
    finally:
        console.kill()  # SIGKILL mid-campaign: no shutdown, no flush

    console = Console(*args)
    try:
        page.goto(console.url)
        assert shown(page) == order[3]  # resumes at the next unrecorded trial
        assert "3 / 10" in page.inner_text("#progress-text")
        for position in range(3, len(order)):
            assert shown(page) == order[position]
            success = position % 3 == 0
            page.keyboard.press("s" if success else "f")
            page.wait_for_selector("#message")
            seen.append((order[position], success))
        page.wait_for_selector("#done")
        # a correction on the history page supersedes, with its reason
        page.goto(console.url + "/history")
        row = page.locator("#history tr", has_text="rang at once")
        row.locator("input[name=reason]").fill("video: the gripper was open")
        row.locator("button").click()
        page.wait_for_selector("#message")
    finally:
        console.stop()
        page.close()

    with open_store(database) as store:
        current = store.outcomes(plan.digest)
        counts = store.counts()
    assert len(current) == len(order) and len({(o.trial, o.policy) for o in current}) == len(order)
    results = {(o.trial, o.policy): o.success for o in current}
    expected = dict(seen)
    expected[order[0]] = False  # superseded
    assert results == expected
    assert counts["outcomes"] == len(order) + 1 and counts["aborts"] == 1
    first = next(o for o in current if (o.trial, o.policy) == order[0])
    assert first.revision == 1 and first.operator == "ana"


def test_console_refuses_bad_input_before_starting(tmp_path, monkeypatch, capsys):
    from test_platform_cli import sim2real  # the real command line, in this process

    plan_file = make_plan(load_preset("smoke"), "click_bell", seed=0).save(tmp_path / "plan.json")
    for args, needle in (
        (["--policy", "A=x", "--policy", "A=y"], "invalid policy"),
        (["--policy", "zero", "--auto"], "--auto needs --robot"),
        (["--policy", "zero", "--robot", str(tmp_path / "none.yaml")], "invalid robot"),
        (["--policy", "zero", "--record", str(tmp_path / "r"), "--no-record"], "invalid record"),
        (["--policy", "zero", "--robot", str(SIM_ROBOT), "--record", str(plan_file)], "invalid record"),
        (["--policy", f"A={tmp_path / 'none.pt'}", "--robot", str(SIM_ROBOT)],
         "invalid policy: '" + str(tmp_path / "none.pt") + "' is neither a built-in policy nor an existing file"),
    ):
        code, _, err = sim2real(monkeypatch, capsys, "protocol", "console", "--plan", str(plan_file),
                                "--db", str(tmp_path / "t.sqlite"), *args)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    assert os.path.exists(plan_file) and not (tmp_path / "r").exists()


def test_runs_are_recorded_beside_the_database_by_default(tmp_path):
    from sim2real.protocol.console.server import default_record_dir

    assert default_record_dir(str(tmp_path / "lab" / "trials.sqlite"), "abc") == tmp_path / "lab" / "trials-runs"
    assert default_record_dir(f"sqlite:///{tmp_path}/t.db", "abc") == tmp_path / "t-runs"
    assert default_record_dir("postgresql://ana@127.0.0.1:5432/trials", "abc") == Path("protocol-runs") / "abc"
