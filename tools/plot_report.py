#!/usr/bin/python3
"""PNG plots of a cimvp run folder (docs/outputs.md), for report.md.

  /usr/bin/python3 tools/plot_report.py OUT_DIR

Writes into OUT_DIR:
  power.png            power over time per component kind (stacked) and the total, from power.csv
  energy_breakdown.png energy by component kind, from energy_breakdown.csv
  area_breakdown.png   area by component kind, from area_breakdown.csv
  adc_<group>.png      per-layer histogram of the captured pre-ADC signals with the uniform (SAR
                       mid-tread) and Lloyd-Max thresholds and the achieved Q-cell edges drawn, for
                       every adc_capture_<group>.csv in the folder (thresholds from
                       adc_thresholds_<group>.csv, else computed here; skipped cleanly when the run
                       captured none). Prints one line per group with each threshold set's MSE.
Needs numpy and matplotlib (Debian: python3-numpy, python3-matplotlib). Exits 0 with a note when
an input file is absent; exits 2 when OUT_DIR does not exist.
"""
import csv
import glob
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def kind(name):
    """tile3_adc -> adc, tile3.array -> crossbar array, tile3.periphery -> tile periphery,
    tile3 -> tile registers (the same grouping as report.md)."""
    if name.endswith("_adc"):
        return "adc"
    if name.endswith(".array"):
        return "crossbar array"
    if name.endswith(".periphery"):
        return "tile periphery"
    m = re.match(r"^(.*?)(\d+)$", name)
    if m and m.group(1):
        return m.group(1) + " registers"
    return name


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def plot_power(d):
    path = os.path.join(d, "power.csv")
    if not os.path.exists(path):
        print("no power.csv: power plot skipped")
        return
    head, rows = read_csv(path)
    if not rows:
        return
    data = np.array([[float(x) for x in r] for r in rows])
    # Time axis in us, or ms for long runs; the bin width in its own best unit.
    span_ns = data[-1, 0] if len(data) else 0.0
    unit, per_ns = ("ms", 1e-6) if span_ns >= 10e6 else ("us", 1e-3)
    t_us = data[:, 0] * per_ns
    groups = {}
    for j, h in enumerate(head[1:-1], start=1):
        groups.setdefault(kind(h[:-3] if h.endswith("_mW") else h), np.zeros(len(rows)))
        groups[kind(h[:-3] if h.endswith("_mW") else h)] += data[:, j]
    order = sorted(groups, key=lambda k: -groups[k].sum())
    fig, ax = plt.subplots(figsize=(12, 4.8))
    width = t_us[1] - t_us[0] if len(t_us) > 1 else 1.0
    bin_ns = (data[1, 0] - data[0, 0]) if len(data) > 1 else width / per_ns
    bin_txt = "%g us" % (bin_ns / 1000) if bin_ns >= 1000 else "%g ns" % bin_ns
    edges = np.append(t_us, t_us[-1] + width)
    ys = [np.append(groups[k], groups[k][-1]) for k in order]
    # 20 distinct colours (tab20); beyond 20 kinds the cycle repeats with hatching.
    cmap = plt.get_cmap("tab20")
    polys = ax.stackplot(edges, *ys, labels=order, step="post", alpha=0.9,
                         colors=[cmap(i % 20) for i in range(len(order))])
    for i, p in enumerate(polys):
        # Outline in the fill colour: a one-bin burst narrower than a pixel still shows its colour.
        p.set_edgecolor(p.get_facecolor())
        p.set_linewidth(0.6)
        if i >= 20:
            p.set_hatch("//" if (i // 20) % 2 else "..")
    ax.step(edges, np.append(data[:, -1], data[-1, -1]), where="post", color="k", lw=0.8, label="total")
    ax.set_xlabel("simulated time (%s)" % unit)
    ax.set_ylabel("power (mW), bins of %s" % bin_txt)
    ax.set_title("Power over time (power.csv; energy of each bin / bin width)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.set_xlim(edges[0], edges[-1])
    fig.tight_layout()
    fig.savefig(os.path.join(d, "power.png"), dpi=110)
    plt.close(fig)


def bar_breakdown(d, fname, col, unit, title, out):
    path = os.path.join(d, fname)
    if not os.path.exists(path):
        print("no %s: plot skipped" % fname)
        return
    head, rows = read_csv(path)
    j = head.index(col)
    groups = {}
    for r in rows:
        groups[kind(r[0])] = groups.get(kind(r[0]), 0.0) + float(r[j])
    items = sorted(groups.items(), key=lambda kv: -kv[1])
    total = sum(v for _, v in items)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(items) + 1.5))
    names = [k for k, _ in items][::-1]
    vals = [v for _, v in items][::-1]
    bars = ax.barh(names, vals, color=["#d62728" if n == "adc" else "#1f77b4" for n in names])
    for b, v in zip(bars, vals):
        ax.text(b.get_width(), b.get_y() + b.get_height() / 2, " %.3g (%.1f%%)" % (v, 100 * v / total if total else 0),
                va="center", fontsize=8)
    ax.set_xlabel(unit)
    ax.set_title(title + " — total %.4g %s" % (total, unit))
    ax.set_xlim(0, max(vals) * 1.35 if vals and max(vals) > 0 else 1)
    fig.tight_layout()
    fig.savefig(os.path.join(d, out), dpi=110)
    plt.close(fig)


def lloyd_max(x, levels, iters=200):
    """Lloyd-Max quantizer of samples x: thresholds (levels-1) and levels (same algorithm as
    firmware/lib/lloyd_max.c: uniform start over [min, max], alternate midpoints and centroids)."""
    lo, hi = float(x.min()), float(x.max())
    lv = lo + (np.arange(levels) + 0.5) * (hi - lo) / levels
    for _ in range(iters):
        th = (lv[1:] + lv[:-1]) / 2
        idx = np.searchsorted(th, x)
        new = lv.copy()
        for i in range(levels):
            sel = x[idx == i]
            if sel.size:
                new[i] = sel.mean()
        if np.allclose(new, lv, rtol=0, atol=1e-12 * max(1.0, hi - lo)):
            break
        lv = np.sort(new)
    return (lv[1:] + lv[:-1]) / 2, lv


def uniform_minmax(x, levels):
    """The uniform reference of `cimvp lloyd-max --uniform` (DESIGN.md section 5): `levels`
    evenly spaced levels from min to max, nearest-level rounding (thresholds at the midpoints)."""
    lv = np.linspace(float(x.min()), float(x.max()), levels)
    return (lv[1:] + lv[:-1]) / 2, lv


def read_thresholds(path):
    """adc_thresholds_<group>.csv (docs/outputs.md): kind,index,value with kind uniform,
    uniform_level, lloyd_max, lloyd_max_level, achieved_edge. Returns {kind: values in index order}."""
    out = {}
    if not os.path.exists(path):
        return out
    _, rows = read_csv(path)
    for r in rows:
        out.setdefault(r[0], []).append((int(r[1]), float(r[2])))
    return {k: np.array([v for _, v in sorted(pairs)]) for k, pairs in out.items()}


def quantise_mse(x, thresholds, levels):
    """MSE of a quantiser whose code is the number of thresholds <= x (levels[code])."""
    return float(np.mean((levels[np.searchsorted(thresholds, x, side="right")] - x) ** 2))


def qcell_mse(x, edges, levels):
    """MSE of a Q-cell decoder as built (models/adc QCellAdc, fw_calib_qcell_mse): window k is
    [edges[2k], edges[2k+1]); the lowest matching window wins; no match -> nearest window
    (tie -> lower)."""
    lo, hi = edges[0::2], edges[1::2]
    inside = (x[:, None] >= lo[None, :]) & (x[:, None] < hi[None, :])
    dist = np.where(x[:, None] < lo[None, :], lo[None, :] - x[:, None], x[:, None] - hi[None, :])
    code = np.where(inside.any(axis=1), inside.argmax(axis=1), dist.argmin(axis=1))
    return float(np.mean((levels[code] - x) ** 2))


def adc_stats(x, th, bits):
    """The threshold sets drawn for one group and their MSE on x: a list of
    (key, label, thresholds, mse). Missing sets are computed from the samples and say so."""
    L = 2**bits
    sets = []
    if "uniform" in th and "uniform_level" in th:
        sets.append(("uniform", "uniform mid-tread SAR (the chip's baseline)", th["uniform"],
                     quantise_mse(x, th["uniform"], th["uniform_level"])))
    else:
        t, lv = uniform_minmax(x, L)
        sets.append(("uniform", "uniform min..max (computed here)", t, quantise_mse(x, t, lv)))
    if "lloyd_max" in th and "lloyd_max_level" in th:
        sets.append(("lloyd_max", "Lloyd-Max nominal (firmware design)", th["lloyd_max"],
                     quantise_mse(x, th["lloyd_max"], th["lloyd_max_level"])))
        levels = th["lloyd_max_level"]
    else:
        t, levels = lloyd_max(x, L)
        sets.append(("lloyd_max", "Lloyd-Max (computed here)", t, quantise_mse(x, t, levels)))
    if "achieved_edge" in th and len(th["achieved_edge"]) == 2 * len(levels):
        e = th["achieved_edge"]
        sets.append(("achieved", "achieved Q-cell edges (read back)", e, qcell_mse(x, e, levels)))
    return sets


def plot_adc(d, bits):
    files = sorted(glob.glob(os.path.join(d, "adc_capture_*.csv")))
    if not files:
        print("no adc_capture_*.csv: ADC histograms skipped (the run captured no pre-ADC data)")
        return
    # One figure per group costs ~0.5-1 s of matplotlib: a many-layer network (VGG8: 8 groups)
    # draws them in parallel processes, one per core (output order and bytes unchanged).
    jobs = [(d, f, bits) for f in files]
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            lines = pool.map(plot_adc_group, jobs)
    else:
        lines = [plot_adc_group(j) for j in jobs]
    for line in lines:
        print(line)


def plot_adc_group(job):
    d, f, bits = job
    group = os.path.basename(f)[len("adc_capture_"):-4]
    vals = []
    with open(f) as fh:
        for line in fh:
            try:
                vals.append(float(line.strip().split(",")[0]))
            except ValueError:
                pass  # header
    x = np.array(vals)
    if x.size < 2 or not x.max() > x.min():
        return "adc %s: fewer than 2 distinct samples, no histogram" % group
    sets = adc_stats(x, read_thresholds(os.path.join(d, "adc_thresholds_%s.csv" % group)), bits)
    msg = "adc %s: %d samples, %d bits; MSE (digits^2): %s" % (
        group, x.size, bits, ", ".join("%s %.6g" % (k, m) for k, _, _, m in sets))
    by = {k: (label, t, m) for k, label, t, m in sets}
    fig, axes = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    edges = np.linspace(x.min(), x.max(), 201)
    panels = ((axes[0], ["uniform"], {"uniform": ("#1f77b4", "-")}),
              (axes[1], ["lloyd_max", "achieved"], {"lloyd_max": ("#d62728", "-"), "achieved": ("k", ":")}))
    for ax, keys, style in panels:
        # stepfilled: one polygon instead of 200 bar patches (5x faster on a many-layer network)
        ax.hist(x, bins=edges, histtype="stepfilled", color="0.65", label="captured samples (%d)" % x.size)
        ax.set_yscale("log")
        for k in keys:
            if k not in by:
                continue
            label, t, m = by[k]
            color, ls = style[k]
            # One LineCollection per threshold set (axvline per threshold is a Line2D each).
            ax.vlines(t, 0, 1, transform=ax.get_xaxis_transform(), colors=color, lw=0.8, linestyles=ls,
                      label="%s: %d, MSE %.4g" % (label, len(t), m))
        ax.set_ylabel("samples per bin (log)")
        ax.legend(fontsize=7, loc="upper right")
    axes[0].set_title("%s: %d-bit ADC thresholds on the captured pre-ADC signal" % (group, bits))
    axes[1].set_xlabel("pre-ADC column signal (digits = column current / unit-cell current)")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "adc_%s.png" % group), dpi=110)
    plt.close(fig)
    return msg


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    d = sys.argv[1]
    if not os.path.isdir(d):
        print("%s: no such run folder" % d, file=sys.stderr)
        return 2
    bits = 4
    summary = os.path.join(d, "summary.json")
    if os.path.exists(summary):
        import json
        with open(summary) as f:
            s = json.load(f)
        adc = s.get("adc")
        if isinstance(adc, dict) and isinstance(adc.get("bits"), (int, float)):
            bits = int(adc["bits"])
    plot_power(d)
    bar_breakdown(d, "energy_breakdown.csv", "total_pJ", "pJ", "Energy by component kind", "energy_breakdown.png")
    bar_breakdown(d, "area_breakdown.csv", "area_um2", "um2", "Area by component kind", "area_breakdown.png")
    plot_adc(d, bits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
