"""Rendering: MuJoCo's rasterizer behind a small camera interface."""
