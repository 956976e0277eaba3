"""The JSON API (FastAPI): public reads (benchmarks, leaderboards, public submissions), the
researcher's submissions, and the station's lease / heartbeat / upload / finish. Every call
but the public ones takes `Authorization: Bearer TOKEN`; the schema is at /openapi.json."""
# No `from __future__ import annotations` here: FastAPI reads the local Annotated aliases at run time.


from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from sim2real.errors import Sim2RealError
from sim2real.platform.auth import Principal, RateLimiter, authenticate
from sim2real.platform.errors import Forbidden, PlatformError, Unauthorized
from sim2real.platform.leaderboard import agreement, leaderboard
from sim2real.platform.schemas import FinishRequest, HeartbeatRequest, SubmitRequest, TrialUpload
from sim2real.platform.service import Platform

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_VIDEO_BYTES = 64 * 2**20
MAX_DRAIN_BYTES = 64 * 2**20  # a refused upload's body read to its end up to this size
bearer = HTTPBearer(auto_error=False, description="a token from `sim2real platform admin token add`")


def add_api(app: FastAPI, platform: Platform, video_dir: FilePath) -> None:
    router = APIRouter(prefix="/api")

    def principal(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        if credentials is None:
            raise Unauthorized("invalid token: (none); allowed: Authorization: Bearer TOKEN")
        with Session(platform.reader) as session:
            who = authenticate(session, credentials.credentials)
        if who is None:
            raise Unauthorized("invalid token: unknown or revoked; allowed: a token the admin issued")
        return who

    Who = Annotated[Principal, Depends(principal)]

    def station_only(who: Who) -> Principal:
        if who.scope != "station":
            raise Forbidden(f"invalid token: scope {who.scope}; allowed: a station token")
        return who

    Station = Annotated[Principal, Depends(station_only)]

    @router.get("/benchmarks", summary="every benchmark")
    def benchmarks() -> list[dict[str, Any]]:
        return platform.benchmarks()

    @router.get("/leaderboard/{benchmark}", summary="a benchmark's public leaderboard")
    def board(benchmark: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
        return {**leaderboard(platform.reader, benchmark), "agreement": agreement(platform.reader, benchmark)}

    @router.get("/stations", summary="the stations, their state and last heartbeat")
    def stations() -> list[dict[str, Any]]:
        return platform.stations()

    @router.get("/public/submissions/{submission_id}", summary="a public submission, its jobs and trials")
    def public_submission(submission_id: Id) -> dict[str, Any]:
        return platform.submission(None, submission_id)

    @router.post("/submissions", status_code=201, summary="submit a policy server to a benchmark")
    def submit(body: SubmitRequest, who: Who) -> dict[str, Any]:
        return platform.submit(who, body.benchmark, body.policy, body.name, body.public, body.baseline,
                               body.station)

    @router.get("/submissions", summary="your submissions (all of them with an admin token)")
    def mine(who: Who) -> list[dict[str, Any]]:
        return platform.submissions(who)

    @router.get("/submissions/{submission_id}", summary="a submission: jobs (state, queue position, "
                "heartbeat, estimated start, reason) and trials")
    def submission(submission_id: Id, who: Who) -> dict[str, Any]:
        return platform.submission(who, submission_id)

    @router.post("/submissions/{submission_id}/cancel", summary="cancel your submission")
    def cancel(submission_id: Id, who: Who) -> dict[str, Any]:
        return platform.cancel(who, submission_id)

    @router.get("/jobs/{job_id}", summary="one job's state")
    def job(job_id: Id, who: Who) -> dict[str, Any]:
        return platform.job(who, job_id)

    @router.post("/station/lease", summary="lease the next job for this station (job null: none, with why)")
    def lease(who: Station) -> dict[str, Any]:
        return platform.lease(who)

    @router.post("/station/heartbeat", summary="the station is alive; extends the lease of the job it holds")
    def heartbeat(body: HeartbeatRequest, who: Station) -> dict[str, Any]:
        return platform.heartbeat(who, body.job, body.lease)

    @router.post("/jobs/{job_id}/trials", summary="record one trial (idempotent by idempotency_key)")
    def upload(job_id: Id, body: TrialUpload, who: Station) -> JSONResponse:
        view, created = platform.upload_trial(who, job_id, body.lease, body.index, body.idempotency_key,
                                              body.success, body.progress, body.steps, body.failure)
        return JSONResponse(jsonable(view), status_code=201 if created else 200)

    @router.put("/jobs/{job_id}/trials/{index}/video", summary="a recorded trial's video (MP4 bytes)")
    async def video(job_id: Id, index: Annotated[int, Path(ge=0, le=100_000)], request: Request, who: Station,
                    lease: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]):
        from starlette.concurrency import run_in_threadpool

        data = await request.body()
        if not data or len(data) > MAX_VIDEO_BYTES or data[4:8] != b"ftyp":
            raise PlatformError(f"invalid video: {len(data)} bytes; allowed: an MP4 file up to "
                                f"{MAX_VIDEO_BYTES >> 20} MiB")
        name = f"job{job_id}-trial{index}.mp4"
        await run_in_threadpool(_write_atomic, video_dir / name, data)
        await run_in_threadpool(platform.attach_video, who, job_id, lease, index, name)
        return {"video": f"/videos/{name}"}

    @router.put("/checkpoints", summary="upload a checkpoint (the body: a `sim2real train sft` file); "
                "201 stored, 200 stored before; submit it as policy checkpoint:sha256:HEX",
                responses={201: {"description": "stored"}, 200: {"description": "these bytes were stored before"}})
    async def upload_checkpoint(
            request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        try:
            upload = platform.checkpoint_upload(principal(credentials))
        except PlatformError:
            # Read (and drop) what the client is still sending, so that it reads the refusal
            # rather than a reset connection; past this much the connection is dropped.
            drained = 0
            async for chunk in request.stream():
                drained += len(chunk)
                if drained > MAX_DRAIN_BYTES:
                    break
            raise
        try:
            async for chunk in request.stream():
                upload.write(chunk)  # refused (and removed) past the size limit
        except BaseException:
            upload.abort()
            raise
        view, created = await run_in_threadpool(upload.finish)  # torch.load(weights_only=True) checks it
        return JSONResponse(view, status_code=201 if created else 200)

    @router.get("/checkpoints/{sha256}", summary="an uploaded checkpoint's bytes (station and admin tokens)",
                response_class=FileResponse)
    def checkpoint(sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], who: Who) -> FileResponse:
        return FileResponse(platform.checkpoint_path(who, sha256), media_type="application/octet-stream")

    @router.post("/jobs/{job_id}/finish", summary="close a job (done when every trial is recorded)")
    def finish(job_id: Id, body: FinishRequest, who: Station) -> dict[str, Any]:
        return platform.finish(who, job_id, body.lease, body.error)

    app.include_router(router)


def add_errors(app: FastAPI, limiter: RateLimiter | None) -> None:
    @app.exception_handler(Sim2RealError)
    async def refused(request: Request, error: Sim2RealError):
        return JSONResponse({"error": str(error)}, status_code=getattr(error, "status", 400))

    if limiter is None:
        return

    @app.middleware("http")
    async def rate_limit(request: Request, call_next):
        key = request.headers.get("authorization") or (request.client.host if request.client else "?")
        wait = limiter.allow(key)
        if wait is not None:
            return JSONResponse({"error": f"invalid rate: over {limiter.limit} requests per "
                                 f"{limiter.window:g} s; allowed: retry in {wait:.1f} s"},
                                status_code=429, headers={"Retry-After": str(max(1, round(wait)))})
        return await call_next(request)


def jsonable(value: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)


def _write_atomic(path: FilePath, data: bytes) -> None:
    from sim2real.media import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, ".mp4") as temporary:
        temporary.write_bytes(data)
