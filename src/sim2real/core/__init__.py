"""The contract every other room speaks, importing nothing else of the package.

* `contract`: the station: 14 named action slots, observation keys, cameras, control rate.
* `environment`: the `Environment` protocol (simulator and real stations implement it).
* `policy`: the batched `Policy` protocol, its metadata and the action-chunk check.
* `records`: typed records that cross rooms (episode start, episode outcome, evaluation summary).
"""

from sim2real.core.contract import (
    ACTION_DIM,
    ACTION_NAMES,
    CAMERA_NAMES,
    CONTROL_HZ,
    HOME_ACTION,
    IMAGE_PREFIX,
    image_key,
)
from sim2real.core.environment import Environment, StationStop, StepInfo
from sim2real.core.policy import Policy, PolicyError, PolicyMetadata, SamplingPolicy
from sim2real.core.records import EpisodeInfo, EpisodeRecord, EvalSummary

__all__ = [
    "ACTION_DIM", "ACTION_NAMES", "CAMERA_NAMES", "CONTROL_HZ", "HOME_ACTION", "IMAGE_PREFIX",
    "Environment", "EpisodeInfo", "EpisodeRecord", "EvalSummary", "Policy", "PolicyError",
    "PolicyMetadata", "SamplingPolicy", "StationStop", "StepInfo", "image_key",
]
