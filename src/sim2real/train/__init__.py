"""Training: supervised fine-tuning (SFT) of the reference VLA, later GRPO."""
