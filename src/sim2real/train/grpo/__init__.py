"""GRPO reinforcement fine-tuning of the reference VLA's discrete head in simulation, as
SimpleVLA-RL does: groups of sampled rollouts per initial state, binary task rewards,
group-normalised advantages, dynamic sampling and a clipped (DAPO clip-higher) token loss."""
