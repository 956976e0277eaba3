"""Structured domain randomization: independent factors (BG, LT, TD, CP, TH, OBJ, PHY), each
sampled per episode or per frame from a training or an out-of-distribution range."""
