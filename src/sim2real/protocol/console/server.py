"""Starting the console: open the store, build the campaign, serve on a local address."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim2real.errors import Sim2RealError, invalid


def run_console(plan_path: Path, database: str, policies: Sequence[str], robot: Path | None = None,
                record_dir: Path | None = None, auto: bool = False, operator: str | None = None,
                host: str = "127.0.0.1", port: int = 8765, announce=print, live: bool = True,
                no_record: bool = False) -> None:
    """Serve the console until interrupted; every check runs before the server starts. With a
    robot, every run is recorded (its video's path kept in the database): into `record_dir`,
    by default beside the database (`no_record`: not at all)."""
    import uvicorn

    from sim2real.protocol.console.app import create_app
    from sim2real.protocol.console.campaign import Campaign, parse_policies
    from sim2real.protocol.console.live import LiveView, Preview, has_head_camera
    from sim2real.protocol.console.runner import TrialRunner
    from sim2real.protocol.db import open_store
    from sim2real.protocol.plan import load_plan

    plan = load_plan(plan_path)
    entries = parse_policies(policies)
    if not 0 < port < 65536:
        raise invalid("port", port, "1 to 65535")
    if robot is not None and not Path(robot).is_file():
        raise invalid("robot", str(robot), "an existing robot config YAML (see configs/robots/)")
    if auto and robot is None:
        raise Sim2RealError("invalid auto: --auto needs --robot (a simulated station, whose episodes judge success)")
    config = None
    if robot is not None:
        from sim2real.policy.spec import check_spec
        from sim2real.robot.config import load_robot_config

        config = load_robot_config(robot)
        for entry in entries:  # Start would fail on it later, after the operator set up the trial
            check_spec(entry.spec)
        if auto and config.kind != "sim":
            raise invalid("auto", "on", "only with the sim robot (a real station's outcome is the operator's)")
    if config is not None and record_dir is None and not no_record:
        record_dir = default_record_dir(database, plan.digest)
    if record_dir is not None:
        from sim2real.media import require_folder

        require_folder(Path(record_dir), "record")
    store = open_store(database)
    campaign = Campaign(plan, store, entries)
    view = preview = None
    if live and not auto and config is not None and has_head_camera(config):  # unattended: nobody looks
        view = LiveView()
        preview = Preview(view, config, plan.task, {t.index: t.seed for t in plan.trials})
    runner = TrialRunner(campaign, robot, record_dir, operator, live=view, preview=preview)
    app = create_app(campaign, runner)
    progress = campaign.progress()
    announce(f"console for {plan.name} ({progress['done']}/{progress['total']} recorded) on http://{host}:{port}/ "
             f"(database {store.url}" + (f"; runs recorded in {record_dir}" if record_dir else "") + ")")
    if auto:
        runner.start_auto()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if runner.preview is not None:
            runner.preview.close()
        store.close()


def default_record_dir(database: str, digest: str) -> Path:
    """Where a campaign's runs are recorded when --record is not given: beside a SQLite file
    (`trials.sqlite` -> `trials-runs/`), else `protocol-runs/DIGEST/` in the working folder."""
    from sqlalchemy.engine import make_url

    from sim2real.protocol.db import database_url

    url = make_url(database_url(database))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        return path.with_name(f"{path.stem}-runs")
    return Path("protocol-runs") / digest
