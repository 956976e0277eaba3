"""Datasets of demonstrations in the LeRobot v3 layout, written with pyarrow and av."""
