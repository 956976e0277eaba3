"""Server-rendered pages (Jinja2, no JavaScript): the leaderboard of each benchmark, a public
submission's page (jobs with their state and why they wait, per-condition table, trials with
videos), and the station dashboard. They only read; every change goes through the API with a
token, so the pages carry no forms to forge."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from sim2real.platform.errors import NotFound
from sim2real.platform.leaderboard import agreement, condition_table, leaderboard
from sim2real.platform.service import Platform

HERE = Path(__file__).parent


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def moment(value) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def add_pages(app: FastAPI, platform: Platform, video_dir: Path) -> None:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["percent"] = percent
    templates.env.filters["moment"] = moment

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request):
        boards = [board(b["name"]) for b in platform.benchmarks()]
        return templates.TemplateResponse(request, "leaderboard.html", {"boards": boards})

    def board(name: str) -> dict:
        return {**leaderboard(platform.reader, name), "agreement": agreement(platform.reader, name)}

    @app.get("/benchmarks/{name}", response_class=HTMLResponse, include_in_schema=False)
    def benchmark(request: Request, name: str):
        return templates.TemplateResponse(request, "leaderboard.html", {"boards": [board(name)]})

    @app.get("/submissions/{submission_id}", response_class=HTMLResponse, include_in_schema=False)
    def submission(request: Request, submission_id: int):
        view = platform.submission(None, submission_id)
        return templates.TemplateResponse(request, "submission.html",
                                          {"s": view, "conditions": condition_table(view["trials"], view["name"])})

    @app.get("/stations", response_class=HTMLResponse, include_in_schema=False)
    def stations(request: Request):
        return templates.TemplateResponse(request, "stations.html", {"stations": platform.stations()})

    @app.get("/videos/{name}", include_in_schema=False)
    def video(name: str):
        path = video_dir / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise NotFound(f"invalid video: {name!r}; allowed: a recorded trial's video")
        return FileResponse(path, media_type="video/mp4")

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return {"ok": True}
