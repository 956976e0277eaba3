"""The trial page's picture: a top view of the table (the robot at the bottom, as the operator
stands behind it) with the trial's objects at their shifted positions, the grid, and the
distractors; PNG bytes."""

from __future__ import annotations

import io
from functools import lru_cache

from sim2real.protocol.plan import Plan
from sim2real.scene.station import StationLayout

COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple")


@lru_cache(maxsize=64)
def _cached(plan_json: str, index: int) -> bytes:
    return _render(Plan.model_validate_json(plan_json), index)


def placement_png(plan: Plan, index: int) -> bytes:
    return _cached(plan.model_dump_json(), index)


def _render(plan: Plan, index: int) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Rectangle

    layout = StationLayout()
    width, depth = (100 * v for v in layout.table_size)
    trial = plan.trials[index]
    protocol = plan.preset.task(plan.task)
    figure, axes = plt.subplots(figsize=(7.2, 4.6))
    axes.add_patch(Rectangle((-width / 2, -depth / 2), width, depth, fill=False, lw=1.5))
    for side, mount in layout.mounts.items():
        axes.add_patch(Circle((100 * mount.x, 100 * mount.y), 4, color="lightgrey"))
        axes.text(100 * mount.x, 100 * mount.y - 7, f"{side} arm", ha="center", fontsize=7, color="grey")
    for k, (name, grid) in enumerate(protocol.objects.items()):
        colour = COLOURS[k % len(COLOURS)]
        for cell in range(grid.cells):
            x, y = grid.centre(cell)
            axes.plot(x, y, "+", color=colour, alpha=0.35, ms=6)
        x, y = trial.placements[name]
        axes.add_patch(Circle((x, y), 2.5, color=colour, alpha=0.85))
        axes.annotate(f"{name.removesuffix('_xy')} ({x:+.1f}, {y:+.1f}) cm", (x, y), xytext=(6, 8),
                      textcoords="offset points", fontsize=8, color=colour, weight="bold")
    for distractor in trial.setup.distractors:
        x, y = distractor.xy_cm
        axes.add_patch(Rectangle((x - 2, y - 2), 4, 4, color="dimgrey", alpha=0.7))
        axes.annotate(distractor.name, (x, y), xytext=(4, -10), textcoords="offset points", fontsize=7)
    axes.axvline(0, color="grey", lw=0.5, ls=":")
    axes.set(xlim=(-width / 2 - 3, width / 2 + 3), ylim=(-depth / 2 - 12, depth / 2 + 3), aspect="equal",
             xlabel="x (cm, to the robot's right)", ylabel="y (cm, away from the robot)")
    axes.set_title(f"trial {index + 1}: cell {trial.cell_label}, {trial.condition}", fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()
