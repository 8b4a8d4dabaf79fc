#!/usr/bin/python3
"""PNG plots of a cimvp run folder (docs/outputs.md), for report.md.

  /usr/bin/python3 tools/plot_report.py OUT_DIR

Writes into OUT_DIR:
  power.png            power over time per component kind (stacked) and the total, from power.csv
  energy_breakdown.png energy by component kind, from energy_breakdown.csv
  area_breakdown.png   area by component kind, from area_breakdown.csv
  adc_<layer>.png      per-layer histogram of captured pre-ADC signals with the uniform and
                       Lloyd-Max thresholds drawn, for every adc_capture_<layer>.csv in the folder
                       (skipped cleanly when the run captured none)
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
    t_us = data[:, 0] / 1000.0
    groups = {}
    for j, h in enumerate(head[1:-1], start=1):
        groups.setdefault(kind(h[:-3] if h.endswith("_mW") else h), np.zeros(len(rows)))
        groups[kind(h[:-3] if h.endswith("_mW") else h)] += data[:, j]
    order = sorted(groups, key=lambda k: -groups[k].sum())
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = t_us[1] - t_us[0] if len(t_us) > 1 else 1.0
    edges = np.append(t_us, t_us[-1] + width)
    ys = [np.append(groups[k], groups[k][-1]) for k in order]
    ax.stackplot(edges, *ys, labels=order, step="post", alpha=0.85)
    ax.step(edges, np.append(data[:, -1], data[-1, -1]), where="post", color="k", lw=0.8, label="total")
    ax.set_xlabel("simulated time (us)")
    ax.set_ylabel("power (mW), bin %g ns" % (width * 1000))
    ax.set_title("Power over time (power.csv; energy of each bin / bin width)")
    ax.legend(fontsize=7, ncol=2, loc="upper right")
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


def read_thresholds(path):
    """adc_thresholds_<layer>.csv: kind,index,threshold (kind: uniform | lloyd_max | achieved)."""
    out = {}
    if not os.path.exists(path):
        return out
    _, rows = read_csv(path)
    for r in rows:
        out.setdefault(r[0], []).append(float(r[2]))
    return {k: np.sort(np.array(v)) for k, v in out.items()}


def plot_adc(d, bits):
    files = sorted(glob.glob(os.path.join(d, "adc_capture_*.csv")))
    if not files:
        print("no adc_capture_*.csv: ADC histograms skipped (the run captured no pre-ADC data)")
        return
    for f in files:
        layer = os.path.basename(f)[len("adc_capture_"):-4]
        with open(f) as fh:
            vals = []
            for line in fh:
                line = line.strip().split(",")[0]
                try:
                    vals.append(float(line))
                except ValueError:
                    pass  # header
        x = np.array(vals)
        if x.size < 2:
            continue
        th = read_thresholds(os.path.join(d, "adc_thresholds_%s.csv" % layer))
        L = 2**bits
        if "uniform" not in th:
            th["uniform"] = x.min() + np.arange(1, L) * (x.max() - x.min()) / L
        if "lloyd_max" not in th:
            th["lloyd_max"] = lloyd_max(x, L)[0]
        fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
        for ax, key, color in ((axes[0], "uniform", "#1f77b4"), (axes[1], "lloyd_max", "#d62728")):
            ax.hist(x, bins=200, color="0.6")
            for t in th[key]:
                ax.axvline(t, color=color, lw=0.7)
            if key == "lloyd_max" and "achieved" in th:
                for t in th["achieved"]:
                    ax.axvline(t, color="k", lw=0.5, ls=":")
            ax.set_ylabel("samples")
            ax.set_title("%s: %d-bit %s thresholds (%d)%s" % (layer, bits, "uniform" if key == "uniform" else "Lloyd-Max",
                                                          len(th[key]), ", dotted: achieved Q-cell" if key != "uniform" and "achieved" in th else ""))
        axes[1].set_xlabel("pre-ADC signal")
        fig.tight_layout()
        fig.savefig(os.path.join(d, "adc_%s.png" % layer), dpi=110)
        plt.close(fig)


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
        bits = int(s.get("adc", {}).get("bits", s.get("adc_bits", bits))) if isinstance(s.get("adc", {}), dict) else bits
    plot_power(d)
    bar_breakdown(d, "energy_breakdown.csv", "total_pJ", "pJ", "Energy by component kind", "energy_breakdown.png")
    bar_breakdown(d, "area_breakdown.csv", "area_um2", "um2", "Area by component kind", "area_breakdown.png")
    plot_adc(d, bits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
