"""The platform's web app (API + pages) and `sim2real platform serve`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sim2real.platform.api import add_api, add_errors
from sim2real.platform.auth import RateLimiter
from sim2real.platform.checkpoints import CheckpointStore
from sim2real.platform.pages import add_pages
from sim2real.platform.queue import QueueSettings
from sim2real.platform.service import Platform


def create_app(platform: Platform, video_dir: Path, rate_limit: int | None = 1200) -> FastAPI:
    app = FastAPI(title="sim2real benchmark platform", version="1",
                  description="Submit a policy server (ws://, openpi's exchange) to a benchmark; stations "
                              "lease its jobs and upload trials; read the leaderboard.",
                  docs_url=None, redoc_url=None)
    add_errors(app, RateLimiter(rate_limit) if rate_limit else None)
    add_api(app, platform, video_dir)
    add_pages(app, platform, video_dir)
    return app


STALE_UPLOAD_SECONDS = 3600.0  # an upload not written to for this long has no live writer


def sweep_stale_uploads(video_dir: Path, checkpoint_dir: Path | None) -> int:
    """Remove the half-written videos and checkpoint uploads of a killed server (their
    temporaries), sparing any written to within the last hour: another server sharing these
    folders (several behind one PostgreSQL database) may be receiving them now."""
    from sim2real.media import remove_temporaries

    removed = remove_temporaries(Path(video_dir), [(".", "job*-trial*.mp4")], STALE_UPLOAD_SECONDS)
    if checkpoint_dir is not None:
        removed += remove_temporaries(Path(checkpoint_dir), [(".", "upload")], STALE_UPLOAD_SECONDS)
    return removed


def run_platform(database: str, host: str, port: int, video_dir: Path, lease_seconds: float,
                 rate_limit: int | None, announce=print, checkpoint_dir: Path | None = None) -> None:
    import uvicorn

    from sim2real.platform.db import open_database

    engine = open_database(database)
    platform = Platform(engine, QueueSettings(lease_seconds=lease_seconds),
                        checkpoints=CheckpointStore(checkpoint_dir) if checkpoint_dir is not None else None)
    app = create_app(platform, video_dir, rate_limit)
    swept = sweep_stale_uploads(video_dir, checkpoint_dir)
    announce(f"platform on http://{host}:{port}/ (database {engine.url.render_as_string(hide_password=True)}, "
             f"videos in {video_dir}" + (f", checkpoints in {checkpoint_dir}" if checkpoint_dir else "") + ")"
             + (f"; removed {swept} half-written upload(s) of an earlier server" if swept else ""))
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        engine.dispose()
