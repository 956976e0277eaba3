"""The console's web app (FastAPI, server-rendered Jinja2 pages, a few lines of vanilla JS for
keyboard shortcuts and for reloading when a run ends). Every POST commits to the store and
answers with a redirect (post/redirect/get), so a reload never submits twice and the page shown
next is read back from the database."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from sim2real.errors import Sim2RealError
from sim2real.protocol.console.campaign import Campaign
from sim2real.protocol.console.overlay import draw_placements, jpeg
from sim2real.protocol.console.pictures import placement_png
from sim2real.protocol.console.runner import TrialRunner

HERE = Path(__file__).parent


def _back(message: str = "") -> RedirectResponse:
    return RedirectResponse("/" + (f"?message={quote(message)}" if message else ""), status_code=303)


def _progress_fraction(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Sim2RealError(f"invalid progress: {text!r}; allowed: 0 to 100 (percent), or empty") from None
    if not 0 <= value <= 100:
        raise Sim2RealError(f"invalid progress: {text!r}; allowed: 0 to 100 (percent), or empty")
    return value / 100


def create_app(campaign: Campaign, runner: TrialRunner) -> FastAPI:
    app = FastAPI(title="sim2real operator console", docs_url=None, redoc_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(Sim2RealError)
    async def user_error(request: Request, error: Sim2RealError):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(error)}, status_code=400)
        return _back(str(error))

    def operator_of(request: Request, given: str = "") -> str | None:
        return given.strip() or request.cookies.get("operator") or runner.operator

    @app.get("/", response_class=HTMLResponse)
    def trial_page(request: Request, message: str = ""):
        slot = campaign.next_slot()
        context = {"plan": campaign.plan, "progress": campaign.progress(), "message": message,
                   "operator": operator_of(request) or "", "robot": runner.robot, "runner": runner,
                   "sequential": campaign.sequential(), "policies": campaign.names, "live": runner.live is not None}
        if slot is None:
            return templates.TemplateResponse(request, "done.html", context)
        view = campaign.view(slot)
        runs = [e for e in campaign.store.history(campaign.plan, slot.trial)
                if e["kind"] == "run" and e["policy"] == slot.policy]
        current = runner.current if runner.busy else None
        last = runs[-1] if runs else None
        if last is not None and last["finished"] is None and not (current and current["run"] == last["id"]):
            last = {**last, "error": last["error"] or "interrupted: the console stopped during this run"}
        return templates.TemplateResponse(request, "trial.html", {**context, **view, "run": last, "running": current})

    @app.get("/picture/{index}.png")
    def picture(index: int):
        campaign.trial(index)
        return Response(placement_png(campaign.plan, index), media_type="image/png",
                        headers={"Cache-Control": "max-age=3600"})

    @app.get("/api/camera")
    def camera(trial: int | None = None):
        """The live head view's newest frame (its number changes with every new frame); asking
        with the trial being set up keeps the between-runs preview going."""
        if runner.live is None:
            return {"live": False}
        if trial is not None and runner.preview is not None and not runner.busy:
            campaign.trial(trial)
            runner.preview.want(trial)
        snapshot = runner.live.latest()
        error = runner.preview.error if runner.preview is not None else None
        return {"live": True, "error": error, **(snapshot.as_dict() if snapshot else {"frame": None})}

    @app.get("/camera/head.jpg")
    def camera_jpeg(trial: int | None = None, markers: bool = True):
        """The newest head frame as JPEG, with trial `trial`'s placement markers over it."""
        snapshot = runner.live.latest() if runner.live is not None else None
        if snapshot is None:
            return JSONResponse({"error": "no head-camera frame yet"}, status_code=404)
        image = snapshot.image
        if trial is not None and markers:
            campaign.trial(trial)
            image = draw_placements(image, campaign.plan, trial)
        return Response(jpeg(image), media_type="image/jpeg",
                        headers={"Cache-Control": "no-store", "X-Frame": str(snapshot.number)})

    @app.post("/outcome")
    def outcome(request: Request, trial: int = Form(...), policy: str = Form(...), result: str = Form(...),
                progress: str = Form(""), notes: str = Form(""), operator: str = Form(""),
                run: str = Form("")):
        campaign.check_slot(trial, policy)
        if result not in ("success", "failure"):
            raise Sim2RealError(f"invalid result: {result!r}; allowed: success, failure")
        if runner.busy and runner.current and runner.current["trial"] == trial:
            raise Sim2RealError("the run is still going: wait for it to end (or abort it) before recording")
        who = operator_of(request, operator)
        campaign.store.record(campaign.plan, trial, policy, result == "success", progress=_progress_fraction(progress),
                              notes=notes.strip(), operator=who, run_id=int(run) if run.strip() else None)
        response = _back(f"trial {trial + 1} ({policy}): {result} recorded")
        if who:
            response.set_cookie("operator", who, max_age=30 * 24 * 3600, samesite="strict")
        return response

    @app.post("/abort")
    def abort(request: Request, trial: int = Form(...), policy: str = Form(...), reason: str = Form(""),
              operator: str = Form(""), run: str = Form("")):
        campaign.check_slot(trial, policy)
        campaign.store.abort(campaign.plan, trial, policy, campaign.require_reason(reason),
                             operator=operator_of(request, operator), run_id=int(run) if run.strip() else None)
        return _back(f"trial {trial + 1} ({policy}) aborted: set it up again and redo it")

    @app.post("/start")
    def start(request: Request, trial: int = Form(...), policy: str = Form(...), operator: str = Form("")):
        runner.start(trial, policy, operator_of(request, operator))
        return _back()

    @app.get("/history", response_class=HTMLResponse)
    def history(request: Request, message: str = ""):
        return templates.TemplateResponse(request, "history.html", {
            "plan": campaign.plan, "rows": campaign.recent(100), "message": message,
            "progress": campaign.progress(), "operator": operator_of(request) or ""})

    @app.post("/supersede")
    def supersede(request: Request, outcome: int = Form(...), result: str = Form(...), reason: str = Form(""),
                  operator: str = Form("")):
        if result not in ("success", "failure"):
            raise Sim2RealError(f"invalid result: {result!r}; allowed: success, failure")
        campaign.store.supersede(outcome, result == "success", campaign.require_reason(reason),
                                 operator=operator_of(request, operator))
        return RedirectResponse(f"/history?message={quote(f'outcome {outcome} superseded')}", status_code=303)

    @app.get("/api/state")
    def state():
        # progress before the next slot: an outcome committed in between shows as one fewer
        # done, never as all done with a next slot still given
        progress = campaign.progress()
        slot = campaign.next_slot()
        return {"plan": campaign.plan.digest, "task": campaign.plan.task, "progress": progress,
                "next": None if slot is None else {"trial": slot.trial, "policy": slot.policy},
                "live": runner.live is not None,
                "running": runner.current if runner.busy else None, "auto_error": runner.auto_error,
                "policies": [p.as_dict() for p in campaign.policies],
                "sequential": campaign.sequential()}

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    return app
