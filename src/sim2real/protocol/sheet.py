"""Placement sheets: the table at 1:1 scale with the grid and every trial's position, printed
and laid under the objects.

The sheet's near edge is the table's near edge (the robot's side, y = -35 cm in the table frame)
and its centre line is the table's centre (x = 0), so aligning those two with the real table puts
every mark where the simulator's frame says. A 10 cm bar on every page checks the print scale
(print at 100% / "actual size", never "fit to page"). Large regions are tiled over several pages
with 1 cm of overlap and alignment crosses; `--paper single` gives one page of the exact size
(for a plotter) and PNG output is always one image at the chosen DPI (its pHYs chunk carries the
DPI, so it prints to scale).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sim2real.errors import invalid
from sim2real.protocol.plan import Plan, Trial
from sim2real.scene.station import StationLayout

CM_PER_INCH = 2.54
PAPERS_CM = {"a4": (29.7, 21.0), "a3": (42.0, 29.7), "letter": (27.94, 21.59)}  # landscape
PAGE_MARGIN_CM = 1.0
OVERLAP_CM = 1.0
SCALE_BAR_CM = 10.0
SCALE_BAR_COLOUR = (1.0, 0.0, 0.0)  # pure red: the test finds the bar by its colour
REGION_MARGIN_CM = 5.0
TITLE_CM = 3.0  # room above the region for the title block and the scale bar
MARKER_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple")


@dataclass(frozen=True)
class Region:
    """The part of the table the sheet covers, in cm of the table frame."""

    x0: float
    y0: float
    width: float
    height: float


def sheet_region(plan: Plan) -> Region:
    layout = StationLayout()
    near_edge = -100 * layout.table_size[1] / 2
    half_table = 100 * layout.table_size[0] / 2
    xs, ys = [], []
    for name, grid in plan.preset.task(plan.task).objects.items():
        xs += grid.x_cm
        ys += grid.y_cm
    pad = plan.preset.jitter_cm + REGION_MARGIN_CM
    x0, x1 = max(-half_table, min(xs) - pad), min(half_table, max(xs) + pad)
    y1 = min(-near_edge, max(ys) + pad)
    return Region(x0, near_edge, x1 - x0, y1 - near_edge + TITLE_CM)


def parse_trials(text: str | None, plan: Plan) -> list[Trial]:
    """'all' (default), or 1-based numbers and ranges like '1-20,25'."""
    if text is None or text == "all":
        return list(plan.trials)
    chosen: list[int] = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            chosen += list(range(int(first), int(last or first) + 1))
    except ValueError:
        raise invalid("trials", text, "'all' or 1-based numbers and ranges such as 1-20,25") from None
    if not chosen or min(chosen) < 1 or max(chosen) > len(plan.trials):
        raise invalid("trials", text, f"numbers from 1 to {len(plan.trials)}")
    return [plan.trials[i - 1] for i in dict.fromkeys(chosen)]


def _draw(axes, plan: Plan, trials: Sequence[Trial], region: Region) -> None:
    """Everything, in table-frame cm (the axes map 1 cm of data to 1 cm of paper)."""
    layout = StationLayout()
    protocol = plan.preset.task(plan.task)
    top = region.y0 + region.height - TITLE_CM
    axes.plot([region.x0, region.x0 + region.width], [region.y0, region.y0], color="black", lw=2)
    axes.text(region.x0 + 0.5, region.y0 + 0.4, "near table edge (robot side): align with the table",
              fontsize=7, va="bottom")
    axes.plot([0, 0], [region.y0, top], color="black", lw=0.6, ls=(0, (6, 3, 1, 3)))
    axes.text(0.3, top - 0.8, "x = 0 (table centre)", fontsize=6, rotation=90, va="top")
    for side, mount in layout.mounts.items():  # the arms' bases, for orientation
        x, y = 100 * mount.x, 100 * mount.y
        if region.x0 <= x <= region.x0 + region.width:
            axes.add_patch(_circle((x, y), 4.0, fill=False, lw=0.8, ls="--", color="grey"))
            axes.text(x, y, f"{side} arm base", fontsize=6, ha="center", va="center", color="grey")
    for k, (name, grid) in enumerate(protocol.objects.items()):
        colour = MARKER_COLOURS[k % len(MARKER_COLOURS)]
        for cell in range(grid.cells):
            cx, cy = grid.centre(cell)
            for dx, dy in ((1, 0), (0, 1)):
                axes.plot([cx - 2 * dx, cx + 2 * dx], [cy - 2 * dy, cy + 2 * dy], color=colour, lw=0.5)
            for tick in (-2, -1, 1, 2):  # 1 cm ticks to read off a trial's shift
                axes.plot([cx + tick, cx + tick], [cy - 0.25, cy + 0.25], color=colour, lw=0.5)
                axes.plot([cx - 0.25, cx + 0.25], [cy + tick, cy + tick], color=colour, lw=0.5)
            row, column = divmod(cell, len(grid.x_cm))
            label = f"{chr(ord('A') + column)}{row + 1}" if grid.cells > 1 else ""
            axes.text(cx + 2.2, cy + 2.2, f"{name.removesuffix('_xy')} {label}".strip(), fontsize=5.5, color=colour)
        for trial in trials:
            x, y = trial.placements[name]
            axes.add_patch(_circle((x, y), 0.18, color=colour))
            axes.text(x + 0.25, y - 0.25, str(trial.index + 1), fontsize=3.5, color=colour, va="top")
    bar_y = top + 1.0
    bar_x = region.x0 + 1.0
    axes.plot([bar_x, bar_x + SCALE_BAR_CM], [bar_y, bar_y], color=SCALE_BAR_COLOUR, lw=1.5, solid_capstyle="butt")
    for end in (bar_x, bar_x + SCALE_BAR_CM):
        axes.plot([end, end], [bar_y - 0.3, bar_y + 0.3], color="black", lw=0.5)
    axes.text(bar_x + SCALE_BAR_CM / 2, bar_y + 0.4, "10 cm: check it after printing (scale 1:1, print at 100%)",
              fontsize=6, ha="center", va="bottom")
    axes.text(bar_x + SCALE_BAR_CM + 1.0, bar_y,
              f"{plan.task}, plan {plan.digest} ({plan.preset.name}, seed {plan.seed}): {len(trials)} trials; "
              "dots = trial numbers at their shifted positions; crosses = cell centres with 1 cm ticks; "
              "table frame: x to the robot's right, y away from the robot",
              fontsize=5.5, va="center")


def _circle(centre, radius, **style):
    from matplotlib.patches import Circle

    return Circle(centre, radius, **style)


def _page(plt, page_w: float, page_h: float, view: tuple[float, float, float, float], label: str | None):
    """A figure of page_w x page_h cm whose axes show `view` (x0, y0, w, h in cm) at 1:1."""
    figure = plt.figure(figsize=(page_w / CM_PER_INCH, page_h / CM_PER_INCH))
    x0, y0, w, h = view
    axes = figure.add_axes((PAGE_MARGIN_CM / page_w, PAGE_MARGIN_CM / page_h, w / page_w, h / page_h))
    axes.set_xlim(x0, x0 + w)
    axes.set_ylim(y0, y0 + h)
    axes.set_axis_off()
    if label:
        figure.text(0.5, 0.3 / page_h, label, ha="center", va="bottom", fontsize=7)
    return figure, axes


def write_sheet(plan: Plan, path: Path, trials: Sequence[Trial] | None = None, paper: str = "a4",
                dpi: int = 150) -> dict:
    """Write a PDF (tiled pages unless paper='single') or a PNG; returns what was written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from sim2real.media import atomic_path

    trials = list(plan.trials if trials is None else trials)
    region = sheet_region(plan)
    suffix = path.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise invalid("sheet file", path.name, "a .pdf or .png file name")
    if paper not in (*PAPERS_CM, "single"):
        raise invalid("paper", paper, ", ".join([*PAPERS_CM, "single"]))
    if suffix == ".png" or paper == "single":
        page_w, page_h = region.width + 2 * PAGE_MARGIN_CM, region.height + 2 * PAGE_MARGIN_CM
        views = [((region.x0, region.y0, region.width, region.height), None)]
    else:
        page_w, page_h = PAPERS_CM[paper]
        inner_w, inner_h = page_w - 2 * PAGE_MARGIN_CM, page_h - 2 * PAGE_MARGIN_CM
        columns = max(1, math.ceil((region.width - OVERLAP_CM) / (inner_w - OVERLAP_CM)))
        rows = max(1, math.ceil((region.height - OVERLAP_CM) / (inner_h - OVERLAP_CM)))
        views = []
        for r in range(rows):
            for c in range(columns):
                x0 = region.x0 + c * (inner_w - OVERLAP_CM)
                y0 = region.y0 + r * (inner_h - OVERLAP_CM)
                views.append(((x0, y0, inner_w, inner_h),
                              f"page {len(views) + 1} of {rows * columns}: row {r + 1} (from the robot side), "
                              f"column {c + 1} (from the left); overlap {OVERLAP_CM:g} cm, align the crosses"))
    with atomic_path(path, suffix) as tmp:
        if suffix == ".png":
            figure, axes = _page(plt, page_w, page_h, views[0][0], None)
            _draw(axes, plan, trials, region)
            figure.savefig(tmp, dpi=dpi, format="png")  # PNG's pHYs chunk records the DPI
            plt.close(figure)
        else:
            with PdfPages(tmp) as pdf:
                for view, label in views:
                    figure, axes = _page(plt, page_w, page_h, view, label)
                    _draw(axes, plan, trials, region)
                    if label:
                        _alignment_crosses(axes, view)
                    pdf.savefig(figure)
                    plt.close(figure)
    return {"path": str(path), "pages": len(views), "page_cm": [round(page_w, 2), round(page_h, 2)],
            "region_cm": [region.x0, region.y0, region.width, region.height], "scale": "1:1",
            "trials": len(trials), "dpi": dpi if suffix == ".png" else None}


def _alignment_crosses(axes, view) -> None:
    """Crosses inside the overlap strips, so neighbouring pages line up when taped."""
    x0, y0, w, h = view
    for x in (x0 + OVERLAP_CM / 2, x0 + w - OVERLAP_CM / 2):
        for y in (y0 + OVERLAP_CM / 2, y0 + h - OVERLAP_CM / 2):
            axes.plot([x - 0.4, x + 0.4], [y, y], color="black", lw=0.4)
            axes.plot([x, x], [y - 0.4, y + 0.4], color="black", lw=0.4)
