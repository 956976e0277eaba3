"""A whole campaign on the sim robot: plan -> console -> robot runtime -> database -> report.
First the operator's way (the live head camera between runs and during the run, Start in
the browser, then Success), then the console restarted with
--auto, which runs the rest unattended and records the simulator's success; every run recorded
(by default beside the database) with its video's path in the database."""

import importlib.util
import io
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim2real.protocol.db import open_store
from sim2real.protocol.plan import load_plan, make_plan
from sim2real.protocol.preset import load_preset
from test_protocol_console import Console, browser, shown  # noqa: F401  (fixture)

SIM_ROBOT = Path(__file__).resolve().parents[1] / "configs" / "robots" / "sim.yaml"
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sim2real.robot") is None or not SIM_ROBOT.exists(),
    reason="the robot runtime (sim2real.robot, configs/robots/sim.yaml; issue 17) has not landed yet")


def wait_done(url: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = json.loads(urllib.request.urlopen(url + "/api/state", timeout=5).read())
        assert state["auto_error"] is None, state["auto_error"]
        if state["progress"]["done"] == state["progress"]["total"]:
            return state
        time.sleep(0.5)
    raise TimeoutError(f"campaign not done after {timeout} s: {state}")


def live_jpeg(page, url: str, trial: int, markers: bool = True) -> np.ndarray:
    from PIL import Image

    response = page.request.get(f"{url}/camera/head.jpg?trial={trial}&markers={'true' if markers else 'false'}")
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    return np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))


def test_sim_robot_campaign_end_to_end(browser, tmp_path):  # noqa: F811
    plan_file = make_plan(load_preset("smoke"), "click_bell", seed=0).save(tmp_path / "plan.json")
    plan = load_plan(plan_file)
    database = str(tmp_path / "trials.sqlite")
    # the shipped sim station, rendering cheaply: a 4096 shadow map per frame is slow in software GL
    station = yaml.safe_load(SIM_ROBOT.read_text())
    station["robot"].update(shadows=False, msaa=0)
    station["image_size"] = [96, 72]
    robot = tmp_path / "sim.yaml"
    robot.write_text(yaml.safe_dump(station))
    args = ["--plan", str(plan_file), "--db", database, "--policy", "expert", "--robot", str(robot)]

    console = Console(*args)
    page = browser.new_page()
    try:
        page.goto(console.url)
        assert shown(page) == (0, "expert")
        # the live head camera under the placement picture: first the sim station's scene of
        # trial 0 (between runs), with the trial's markers drawn over it
        page.wait_for_selector("#live-image[data-source=preview]", timeout=120_000)
        assert page.evaluate("document.getElementById('live-image').naturalWidth") == 320
        preview = live_jpeg(page, console.url, 0)
        bare = live_jpeg(page, console.url, 0, markers=False)
        assert preview.shape == bare.shape == (240, 320, 3)
        assert np.abs(preview.astype(int) - bare.astype(int)).max() > 100  # the markers are drawn in
        page.click("#start")  # the expert runs on the sim station in the console's background
        # then the runtime's own head frames while the run goes (the page polls and reloads them)
        page.wait_for_selector("#live-image[data-source=run]", timeout=120_000)
        first = int(page.get_attribute("#live-image", "data-frame"))
        page.wait_for_function(f"Number(document.getElementById('live-image').dataset.frame) > {first}",
                               timeout=60_000)
        page.wait_for_selector("#run-status:has-text('the station reports')", timeout=120_000)
        assert "reports success" in page.inner_text("#run-status")
        page.keyboard.press("s")
        page.wait_for_selector("#message")
        assert shown(page) == (1, "expert")
    finally:
        page.close()
        console.stop()

    console = Console(*args, "--auto")
    try:
        state = wait_done(console.url)
    finally:
        console.stop()
    assert state["next"] is None

    with open_store(database) as store:
        outcomes = store.outcomes(plan.digest)
        events = [e for t in plan.trials for e in store.history(plan, t.index)]
    runs = [e for e in events if e["kind"] == "run"]
    assert len(outcomes) == len(plan.trials) == 5 and len(runs) == 5
    assert all(r["finished"] is not None and r["error"] is None for r in runs)
    videos = [Path(r["video"]) for r in runs]  # each run's recorded video, by its path in the database
    recording = tmp_path / "trials-runs"  # by default beside the database
    assert all(v.is_file() and v.relative_to(recording).parts[:2] == ("videos", "observation.images.head")
               for v in videos)
    assert len(set(videos)) == 5
    auto = [o for o in outcomes if o.operator == "auto (simulator)"]
    assert len(auto) == 4
    assert sum(o.success for o in outcomes) >= 4  # the privileged expert on clean sim scenes
    assert [r["robot_success"] for r in runs[1:]] == [o.success for o in sorted(auto, key=lambda o: o.trial)]
    linked = [e["run"] for e in events if e["kind"] == "outcome"]
    assert sorted(linked) == sorted(r["id"] for r in runs)  # each outcome names the run it judged

    report = subprocess.run([sys.executable, "-m", "sim2real", "protocol", "report", database,
                             "--out", str(tmp_path / "report"), "--json"], capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    payload = json.loads(report.stdout)
    row = payload["rows"][0]
    assert payload["trials"] == 5 and row["pooled"]["trials"] == 5
    assert payload["policies"] == [{"name": "expert", "spec": "expert", "sha256": None}]
    assert row["pooled"]["successes"] == sum(o.success for o in outcomes)
    assert all(row["factors"][f]["trials"] == 1 for f in ("base", "background", "lighting", "distractors", "object"))
    assert (tmp_path / "report" / "conditions.png").stat().st_size > 0
