"""What the API accepts, validated at the edge (pydantic): unknown fields, over-long strings
and out-of-range numbers are refused with 422 before any work."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Name = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
Lease = Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitRequest(Strict):
    benchmark: str = Name
    policy: str = Field(min_length=5, max_length=500, description="ws://HOST:PORT of your policy server")
    name: str = Field("", max_length=100, description="the name the leaderboard shows (default: the server's)")
    public: bool = Field(True, description="shown on the leaderboard and readable by anyone")
    baseline: bool = Field(False, description="a baseline (admins only)")
    station: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$",
                                description="run only on this station (its queue); none: the first free one")


class HeartbeatRequest(Strict):
    job: int | None = Field(None, ge=1, le=2**31 - 1, description="the job held (none: the station is idle)")
    lease: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")


class TrialUpload(Strict):
    lease: str = Lease
    index: int = Field(ge=0, le=100_000, description="the plan's trial index")
    idempotency_key: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$",
                                 description="the same key on a retry: the trial is recorded once")
    success: bool
    progress: float | None = Field(None, ge=0.0, le=1.0)
    steps: int | None = Field(None, ge=0, le=10_000_000)
    failure: str | None = Field(None, max_length=2000)


class FinishRequest(Strict):
    lease: str = Lease
    error: str | None = Field(None, max_length=2000)
