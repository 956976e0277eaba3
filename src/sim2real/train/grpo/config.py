"""The settings of a GRPO run (SimpleVLA-RL's recipe as defaults)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# What a resumed run may not change: the weights' starting point, the prompts and the seeds
# of every random stream (changing them would make the run a different experiment).
FIXED = ("init", "tasks", "settings", "group_size", "train_seed", "eval_seed", "eval_episodes",
         "seed", "temperature")


class GRPOConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    init: Path  # a discrete-head SFT checkpoint
    out: Path
    tasks: tuple[str, ...] = ("click_bell",)
    settings: dict[str, Any] = Field(default_factory=dict)  # EnvSettings of the rollouts, as a dict
    group_size: int = Field(8, ge=2, description="rollouts per prompt (G)")
    prompts_per_step: int = Field(4, ge=1, description="kept groups per update (P)")
    max_prompts_per_step: int | None = Field(
        None, ge=1, description="prompts sampled at most per step (default 4 x P): a policy that "
        "solves all or none of them makes no update that step rather than sampling for ever")
    steps: int = Field(20, ge=1)
    temperature: float = Field(1.6, gt=0, le=10)
    clip_low: float = Field(0.2, ge=0, lt=1)
    clip_high: float = Field(0.28, ge=0, le=10)
    keep_low: float = Field(0.1, ge=0, le=1)  # dynamic sampling: group success rates kept
    keep_high: float = Field(0.9, ge=0, le=1)
    learning_rate: float = Field(5e-6, gt=0, le=1)
    warmup_steps: int = Field(0, ge=0)
    mini_batch: int = Field(8, ge=1, description="trajectories per optimiser step")
    epochs: int = Field(1, ge=1, description="passes over the step's trajectories")
    grad_clip: float = Field(1.0, gt=0)
    envs: int = Field(8, ge=1, description="environments stepped together per rollout engine")
    execute: int | None = Field(None, ge=1, description="actions executed per chunk (None: all)")
    eval_every: int = Field(10, ge=0, description="greedy evaluation every M steps (0: only "
                            "before and after)")
    eval_episodes: int = Field(20, ge=1)
    train_seed: int = Field(1_000_000, ge=0, lt=2**31, description="first training prompt seed")
    eval_seed: int = Field(2_000_000, ge=0, lt=2**31, description="first held-out evaluation seed")
    seed: int = Field(0, ge=0, lt=2**31, description="the policy's sampling and the mini-batch order")
    log_dir: Path | None = None  # tensorboard; default <out>.logs
    resume: bool = False
    overwrite: bool = False

    @model_validator(mode="after")
    def _ranges(self) -> GRPOConfig:
        if self.keep_low > self.keep_high:
            raise ValueError(f"keep_low {self.keep_low} is above keep_high {self.keep_high}")
        return self

    @property
    def prompt_cap(self) -> int:
        return self.max_prompts_per_step or 4 * self.prompts_per_step
