"""Figures of a result file: spike raster, population rates, state traces, weight histograms.

matplotlib (the ``cli`` extra) is imported only here, with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: at most this many dots in a raster (a uniform subsample of the units beyond it)
MAX_RASTER_POINTS = 200_000


def plot_results(res, out, max_units_traced: int = 5) -> Path:
    """Draw what ``res`` (a :class:`neurosim.io.hdf5.Results`) holds into the PNG ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = ["raster", "rates"] if res.populations else []
    panels += [("state", pv) for pv in res.state_vars]
    panels += [("weights", p) for p in res.projections]
    if not panels:
        panels = ["empty"]
    heights = [3 if p == "raster" else 1.6 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, sum(heights) + 0.6),
                             gridspec_kw=dict(height_ratios=heights), squeeze=False)
    t_end = res.t_flushed or 1.0
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        if panel == "raster":
            offset = 0
            for c, pop in enumerate(res.populations):
                t, i = res.spikes(pop)
                size = res.network["populations"][pop]["size"]
                if len(t) > MAX_RASTER_POINTS:  # keep whole units, drop others
                    keep_every = int(np.ceil(len(t) / MAX_RASTER_POINTS))
                    sel = i % keep_every == 0
                    t, i = t[sel], i[sel]
                ax.scatter(t, i + offset, s=0.5, marker=".", color=colors[c % len(colors)],
                           linewidths=0, label=pop, rasterized=True)
                offset += size
            ax.set_ylim(0, max(offset, 1))
            ax.set_ylabel("unit")
            ax.set_title(f"{res.path.name}: {res.status}, {t_end:g} ms, dt = {res.dt} ms")
            ax.legend(loc="upper right", markerscale=10, fontsize="small")
        elif panel == "rates":
            width = max(res.dt, min(5.0, t_end / 200))
            edges = np.arange(0.0, t_end + width, width)
            for c, pop in enumerate(res.populations):
                t, _ = res.spikes(pop)
                size = res.network["populations"][pop]["size"]
                counts, _ = np.histogram(t, edges)
                ax.plot(edges[:-1], counts / size / (width / 1000.0),
                        color=colors[c % len(colors)], lw=0.8, label=pop)
            ax.set_ylabel(f"rate (Hz)\n{width:g} ms bins")
        elif panel[0] == "state":
            pop, var = panel[1]
            t, v = res.state(pop, var)
            ids = res.recorded_ids(pop, var)
            for j in range(min(max_units_traced, v.shape[1])):
                ax.plot(t, v[:, j], lw=0.7, label=f"{pop}[{ids[j]}]")
            ax.set_ylabel(var)
            ax.legend(loc="upper right", fontsize="x-small", ncol=min(5, v.shape[1]))
        elif panel[0] == "weights":
            times, w, _, _ = res.weights(panel[1])
            for j in sorted({0, len(times) - 1}):
                ax.hist(w[j], bins=50, histtype="step", label=f"t = {times[j]:g} ms")
            ax.set_xlabel(f"weight of {panel[1]}")
            ax.set_ylabel("synapses")
            ax.legend(fontsize="small")
            continue
        else:
            ax.text(0.5, 0.5, "nothing recorded", ha="center", va="center")
        ax.set_xlim(0, t_end)
    for ax in axes[:, 0]:
        if not ax.get_xlabel():
            ax.set_xlabel("time (ms)")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
