"""The reference VLA: OpenVLA-OFT's design choices at sizes that train on a CPU or one GPU.

Per-camera image encoders whose features are FiLM-modulated by the instruction embedding, a
frozen sentence encoder for language, a 2-layer GELU MLP for the robot state, a bidirectional
transformer over [visual tokens, language token, state token, K action queries] decoding all K
actions in one pass, and a continuous (L1) or discrete (256-bin cross-entropy) action head.
"""

from sim2real.policy.vla.config import VLAConfig
from sim2real.policy.vla.model import ReferenceVLA

__all__ = ["ReferenceVLA", "VLAConfig"]
