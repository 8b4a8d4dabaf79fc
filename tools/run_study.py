#!/usr/bin/python3
"""ADC study of issue 7 (docs/calibration.md, docs/results.md): accuracy of the example
Fashion-MNIST network on cimvp for ADC bits x {uniform SAR, Lloyd-Max Q-cell without
variation, Lloyd-Max Q-cell with variation, super-resolution with variation} x variation.

Every point is one `cimvp run scenarios/study-adc-bits.yaml --set ...` process (the firmware
calibrates the ADCs on training images, then infers test images); points run in parallel
processes. Writes OUT/accuracy.csv (one row per run, with the super-resolution disagreement
counts), OUT/accuracy_summary.csv (mean/std over seeds), OUT/fig5_like.png (panels shaped like
the paper's Fig. 5c-f, with the paper's values from ../shared/reference/readc/fig5_5c..f.csv
overlaid when that directory is present: read at run time, never copied), OUT/study.json (the
command, wall time, per-point wall times), and regenerates the study section of
docs/results.md between its markers (table, checks and every number of the comparison).

    /usr/bin/python3 tools/run_study.py [--cimvp build/cimvp] [--jobs 2]
        [--clean-images 10000] [--noisy-images 2000] [--seeds 3] [--ideal-images N]
    /usr/bin/python3 tools/run_study.py --quick    # smoke test: 4 bits, 1 % variation, 1 seed,
                                                   # 100 images, 20 calibration images; no docs
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(os.path.dirname(ROOT), "shared", "reference", "readc")
BEGIN = "<!-- study:begin (tools/run_study.py regenerates this section) -->"
END = "<!-- study:end -->"

METHODS = [  # name, chip.adc.mode, uses variation
    ("uniform_sar", "sar", False),
    ("lloyd_max", "qcell", False),
    ("lloyd_max_var", "qcell", True),
    ("sr_var", "qcell_sr", True),
]
CSV_FIELDS = ["bits", "method", "mode", "variation", "seed", "images", "accuracy", "wall_s", "calibration_time_ns",
              "calibration_energy_pj", "sr_disagree_rate", "sr_captured_disagree_share",
              "sr_captured_disagree_zero_share", "mse_uniform", "mse_sar", "mse_lloyd_max", "mse_achieved", "design"]
SUMMARY_FIELDS = ["bits", "method", "variation", "runs", "images", "mean", "std", "sr_disagree_rate",
                  "sr_captured_disagree_zero_share"]


def points(bits_list, variations, seeds, clean_images, noisy_images):
    pts = []
    for b in bits_list:
        for name, mode, var in METHODS:
            if not var:
                pts.append(dict(bits=b, method=name, mode=mode, variation=0.0, seed=1, images=clean_images))
                continue
            for v in variations:
                for s in range(1, seeds + 1):
                    pts.append(dict(bits=b, method=name, mode=mode, variation=v, seed=s, images=noisy_images))
    return pts


def run_point(cimvp, scenario, out_root, calib_images, p):
    tag = "b%d_%s_v%g_s%d" % (p["bits"], p["method"], p["variation"], p["seed"])
    out = os.path.join(out_root, "runs", tag)
    cmd = [cimvp, "run", scenario, "--out", out, "--quiet", "--seed", str(p["seed"]), "--images", str(p["images"]),
           "--set", "chip.adc.mode=" + p["mode"], "--set", "chip.adc.variation_frac=%g" % p["variation"]]
    if p["bits"]:
        cmd += ["--set", "chip.adc.bits=%d" % p["bits"]]
    if p["mode"] == "ideal":  # reference point: nothing to calibrate
        cmd += ["--set", "calibration.enabled=false"]
    elif calib_images:
        cmd += ["--set", "calibration.images=%d" % calib_images]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    row = dict(p, wall_s=round(wall, 1), accuracy=float("nan"))
    for k in CSV_FIELDS:
        row.setdefault(k, "")
    if r.returncode != 0:
        sys.stderr.write("point %s failed (exit %d): %s\n" % (tag, r.returncode, r.stderr.strip()[-400:]))
        return row
    s = json.load(open(os.path.join(out, "summary.json")))
    row["accuracy"] = s["accuracy"]
    row["calibration_time_ns"] = s.get("calibration_time_ns", "")
    row["calibration_energy_pj"] = s.get("calibration_energy_pj", "")
    adc = s.get("adc", {})
    layers = adc.get("layers", [])
    for k in ("mse_uniform", "mse_sar", "mse_lloyd_max", "mse_achieved"):
        row[k] = ";".join("%.4g" % l[k] for l in layers if k in l)
    row["design"] = ";".join(l.get("design", "") for l in layers)
    if p["mode"] == "qcell_sr":
        # Inference: the banks' own counter; captured data: the firmware's decode of both copies.
        row["sr_disagree_rate"] = adc.get("inference", {}).get("sr_disagree_rate", "")
        n = sum(l["samples"] * l["tiles"] for l in layers if "sr" in l)
        d = sum(l["sr"]["disagreements"] for l in layers if "sr" in l)
        dz = sum(l["sr"]["disagreements"] * l["sr"]["disagree_zero_share"] for l in layers if "sr" in l)
        row["sr_captured_disagree_share"] = d / n if n else ""
        row["sr_captured_disagree_zero_share"] = dz / d if d else ""
    sys.stderr.write("%-36s acc %.4f  (%d images, %.0f s)\n" % (tag, row["accuracy"], p["images"], wall))
    return row


def _mean(xs):
    xs = [float(x) for x in xs if x != "" and not (isinstance(x, float) and math.isnan(x))]
    return sum(xs) / len(xs) if xs else ""


def summarise(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["bits"], r["method"], r["variation"]), []).append(r)
    out = []
    for (b, m, v), rs in sorted(groups.items()):
        acc = [r["accuracy"] for r in rs if not math.isnan(r["accuracy"])]
        mean = sum(acc) / len(acc) if acc else float("nan")
        sd = math.sqrt(sum((a - mean) ** 2 for a in acc) / (len(acc) - 1)) if len(acc) > 1 else 0.0
        out.append(dict(bits=b, method=m, variation=v, runs=len(acc), images=rs[0]["images"], mean=mean, std=sd,
                        sr_disagree_rate=_mean(r["sr_disagree_rate"] for r in rs),
                        sr_captured_disagree_zero_share=_mean(r["sr_captured_disagree_zero_share"] for r in rs)))
    return out


def _ref_csv(name):
    with open(os.path.join(REF, name)) as f:
        return list(csv.reader(f))


def read_paper():
    """The paper's Fig. 5c-f source data (../shared/reference/readc), or None when absent.
    5c: VGG8/CIFAR-10 uniform vs adaptive; 5d: VGG8 vs bits x variation (16 runs each, mean);
    5e: ResNet18/ImageNet software and memristor with/without SR; 5f: ResNet18 vs bits x
    variation (mean over the runs of each point)."""
    ref = {}
    try:
        rows = _ref_csv("fig5_5c.csv")
        ref["5c_float"] = float(rows[0][1])
        bits = [int(c.split("-")[0]) for c in rows[1][1:] if c]
        for r in rows[2:]:
            ref["5c_" + r[0].lower()] = dict(zip(bits, [float(x) for x in r[1:] if x]))
        rows = _ref_csv("fig5_5e.csv")
        ref["5e_float"] = float(rows[0][1])
        bits = [int(c.split("-")[0]) for c in rows[1][1:] if c]
        for r in rows[2:]:
            ref["5e_" + r[0]] = dict(zip(bits, [float(x) for x in r[1:] if x]))
        for fig in ("5d", "5f"):
            vd = {}
            for r in _ref_csv("fig%s_%s.csv" % (fig[0], fig))[1:]:
                if len(r) >= 3 and r[0]:
                    vd.setdefault((int(r[0]), float(r[1])), []).append(float(r[2]))
            ref[fig] = {k: sum(v) / len(v) for k, v in vd.items()}
    except (OSError, ValueError, IndexError, KeyError):
        return None
    return ref


def _paper_at(curve, bits, v):
    """The paper's mean accuracy at (bits, variation v) from a 5d/5f curve, or None."""
    for (b, x), a in curve.items():
        if b == bits and abs(x - v) < 1e-9:
            return a
    return None


def plot(summary, variations, path, ref, ideal_acc=None):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    get = {(s["bits"], s["method"], s["variation"]): s for s in summary}
    bits = sorted({s["bits"] for s in summary})
    has = lambda b, m, v: (b, m, v) in get
    fig, axs = plt.subplots(2, 2, figsize=(14, 9))
    ax = axs.ravel()
    paper_style = dict(color="black", marker="D", mfc="none", ls="none", ms=7)
    # (c)-like: uniform vs adaptive vs bits.
    w = 0.38
    for i, (m, lab) in enumerate([("uniform_sar", "cimvp uniform (SAR)"), ("lloyd_max", "cimvp adaptive (Lloyd-Max)")]):
        bs = [b for b in bits if has(b, m, 0.0)]
        ax[0].bar([b + (i - 0.5) * w for b in bs], [100 * get[(b, m, 0.0)]["mean"] for b in bs], w, label=lab)
    if ref:
        for i, (k, lab) in enumerate([("5c_uniform", "paper VGG8 uniform"), ("5c_adaptive", "paper VGG8 adaptive")]):
            xs = sorted(ref[k])
            ax[0].plot([b + (i - 0.5) * w for b in xs], [ref[k][b] for b in xs], label=lab,
                       **dict(paper_style, marker="v" if i == 0 else "^"))
    if ideal_acc is not None:
        for a_ in ax:
            a_.axhline(100 * ideal_acc, color="grey", ls=":", lw=1, label="cimvp ideal ADC")
    ax[0].set_title("(c-like) uniform vs adaptive ADC")
    ax[0].set_xlabel("ADC bits"), ax[0].set_ylabel("accuracy (%)"), ax[0].set_xticks(bits)
    ax[0].set_ylim(0, 122), ax[0].legend(fontsize=7, loc="upper center", ncol=3)
    # (d)-like: adaptive single ADC vs variation per bits.
    colors = {}
    for b in bits:
        xs = [0.0] + [v for v in variations if has(b, "lloyd_max_var", v)]
        if not has(b, "lloyd_max", 0.0):
            continue
        ys = [100 * get[(b, "lloyd_max", 0.0)]["mean"]] + [100 * get[(b, "lloyd_max_var", v)]["mean"] for v in xs[1:]]
        es = [0.0] + [100 * get[(b, "lloyd_max_var", v)]["std"] for v in xs[1:]]
        ln = ax[1].errorbar([100 * x for x in xs], ys, yerr=es, marker="o", capsize=3, label="cimvp %d-bit" % b)
        colors[b] = ln[0].get_color()
    if ref:
        for b in sorted({k[0] for k in ref["5d"]}):
            pts = sorted((x, a) for (bb, x), a in ref["5d"].items() if bb == b)
            ax[1].plot([100 * x for x, _ in pts], [a for _, a in pts], ls="--", marker="x", color=colors.get(b, "grey"),
                       alpha=0.7, label="paper VGG8 %d-bit" % b)
    ax[1].set_title("(d-like) adaptive Q-cell ADC vs edge variation")
    ax[1].set_xlabel("edge variation (% of range)"), ax[1].set_ylabel("accuracy (%)"), ax[1].legend(fontsize=7, ncol=2)
    # (e)-like: single vs SR with variation.
    k = 0
    nbar = 2 * len(variations)
    bw = 0.8 / max(nbar, 1)
    for v in variations:
        for m, lab in [("lloyd_max_var", "cimvp w/o SR"), ("sr_var", "cimvp w/ SR")]:
            bs = [b for b in bits if has(b, m, v)]
            ax[2].bar([b + (k - (nbar - 1) / 2) * bw for b in bs], [100 * get[(b, m, v)]["mean"] for b in bs], bw,
                      yerr=[100 * get[(b, m, v)]["std"] for b in bs], capsize=2, label="%s, %g%%" % (lab, 100 * v))
            k += 1
    bs = [b for b in bits if has(b, "lloyd_max", 0.0)]
    ax[2].plot(bs, [100 * get[(b, "lloyd_max", 0.0)]["mean"] for b in bs], "k--", marker="x",
               label="cimvp adaptive, no variation")
    if ref:
        for key, lab, mk in [("5e_Adaptive (Memristor w/o SR)", "paper ResNet18 w/o SR", "v"),
                             ("5e_Adaptive (Memristor w/ SR)", "paper ResNet18 w/ SR", "^")]:
            if key in ref:
                xs = sorted(ref[key])
                ax[2].plot(xs, [ref[key][b] for b in xs], label=lab, **dict(paper_style, marker=mk))
    ax[2].set_title("(e-like) super-resolution with variation")
    ax[2].set_xlabel("ADC bits"), ax[2].set_ylabel("accuracy (%)"), ax[2].set_xticks(bits)
    ax[2].set_ylim(0, 125), ax[2].legend(fontsize=7, loc="upper center", ncol=3)
    # (f)-like: SR vs variation per bits.
    for b in bits:
        xs = [v for v in variations if has(b, "sr_var", v)]
        if not xs:
            continue
        ax[3].errorbar([100 * x for x in xs], [100 * get[(b, "sr_var", v)]["mean"] for v in xs],
                       yerr=[100 * get[(b, "sr_var", v)]["std"] for v in xs], marker="o", capsize=3,
                       color=colors.get(b), label="cimvp SR %d-bit" % b)
    if ref:
        for b in sorted({k[0] for k in ref["5f"]}):
            pts = sorted((x, a) for (bb, x), a in ref["5f"].items() if bb == b)
            ax[3].plot([100 * x for x, _ in pts], [a for _, a in pts], ls="--", marker="x", color=colors.get(b, "grey"),
                       alpha=0.7, label="paper ResNet18 %d-bit" % b)
    ax[3].set_title("(f-like) super-resolution vs edge variation")
    ax[3].set_xlabel("edge variation (% of range)"), ax[3].set_ylabel("accuracy (%)"), ax[3].legend(fontsize=7, ncol=2)
    if not ref:
        fig.suptitle("paper reference data (../shared/reference/readc) not found: cimvp only", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def _pct(x):
    return "%.1f" % (100 * x)


def results_section(summary, variations, ref, meta):
    get = {(s["bits"], s["method"], s["variation"]): s for s in summary}
    bits = sorted({s["bits"] for s in summary})
    has = lambda b, m, v: (b, m, v) in get
    L = [BEGIN, "", "## Accuracy study (issue 7)", ""]
    L.append("Generated by `%s` on %s: %d runs in %.1f minutes wall time (%d parallel processes, 2-core machine "
             "shared with other work; per-point wall times in `%s`). Scenario `scenarios/study-adc-bits.yaml` "
             "(the example network, %d calibration images from the training split, per-layer quantiser design "
             "in firmware: zero-pinned, variation-aware Lloyd-Max on the range clipped to the 0.05/99.95 %% "
             "percentiles, docs/calibration.md; uniform SAR = mid-tread two's-complement converter with the "
             "least-MSE full scale; direct-path edge variation `chip.adc.variation_frac` as a fraction of the "
             "range; SR = two Q-cell ADCs per pair, the paper's boundary decoder)." %
             (meta["command"], meta["date"], meta["runs"], meta["minutes"], meta["jobs"], meta["study_json"],
              meta["calib"]))
    L.append("")
    L.append("Test images per point: %d for the noise-free points, %d for the points with variation (%d seeds, "
             "mean +- sample std). %s" % (meta["clean"], meta["noisy"], meta["seeds"], meta["scale_note"]))
    L.append("")
    L.append("| bits | uniform SAR | Lloyd-Max Q-cell | " +
             " | ".join("Lloyd-Max, %g%% var | SR, %g%% var | SR disagree, %g%%" % (100 * v, 100 * v, 100 * v)
                        for v in variations) + " |")
    L.append("|---:|---:|---:|" + "---:|---:|---:|" * len(variations))
    for b in bits:
        def cell(m, v, sd=True):
            if not has(b, m, v):
                return "-"
            s = get[(b, m, v)]
            return "%s +- %s" % (_pct(s["mean"]), _pct(s["std"])) if sd else _pct(s["mean"])
        cells = [cell("uniform_sar", 0.0, False), cell("lloyd_max", 0.0, False)]
        for v in variations:
            cells += [cell("lloyd_max_var", v), cell("sr_var", v)]
            s = get.get((b, "sr_var", v))
            if s and s["sr_disagree_rate"] != "":
                z = s["sr_captured_disagree_zero_share"]
                cells.append("%.1f %% (%s %% at 0)" % (100 * s["sr_disagree_rate"], _pct(z) if z != "" else "-"))
            else:
                cells.append("-")
        L.append("| %d | %s |" % (b, " | ".join(cells)))
    L.append("")
    L.append("Accuracy in %%; the ideal-ADC network scores %s, first test images (`--set chip.adc.mode=ideal --set "
             "calibration.enabled=false`). \"SR disagree\": share of the SR banks' conversions during inference "
             "where the two ADCs of a pair returned different codes (`adc.inference.sr_disagree_rate`), and in "
             "brackets the share of the pairs' disagreements on the captured calibration samples where copy 0's "
             "code is the zero-pinned window (`adc.layers[].sr.disagree_zero_share`, decoded in firmware), mean "
             "over seeds. Figure: `%s` (not committed; regenerate)." % (meta.get("ideal", "n/a"), meta["fig"]))
    L.append("")
    L.append("### Numbers against the paper (generated from this run)")
    L.append("")
    # Uniform vs adaptive.
    pairs = [(b, get[(b, "uniform_sar", 0.0)]["mean"], get[(b, "lloyd_max", 0.0)]["mean"]) for b in bits
             if has(b, "uniform_sar", 0.0) and has(b, "lloyd_max", 0.0)]
    if pairs:
        s = "- **Uniform vs adaptive (Fig. 5c).** cimvp: " + ", ".join(
            "%d-bit %s vs %s" % (b, _pct(u), _pct(a)) for b, u, a in pairs)
        if ref:
            s += "; paper VGG8/CIFAR-10: " + ", ".join(
                "%d-bit %.1f vs %.1f" % (b, ref["5c_uniform"][b], ref["5c_adaptive"][b]) for b in sorted(ref["5c_uniform"])
                if b in ref["5c_adaptive"]) + " (float %.1f)" % ref["5c_float"]
        lm_beats = [b for b, u, a in pairs if a > u]
        s += ". Lloyd-Max beats uniform at %s bits (of %s)." % (", ".join(map(str, lm_beats)) or "no",
                                                                 ", ".join(str(b) for b, _, _ in pairs))
        L.append(s)
    # Cost of variation.
    for v in variations:
        costs = [(b, get[(b, "lloyd_max", 0.0)]["mean"] - get[(b, "lloyd_max_var", v)]["mean"]) for b in bits
                 if has(b, "lloyd_max", 0.0) and has(b, "lloyd_max_var", v)]
        if not costs:
            continue
        s = "- **Cost of %g %% edge variation, single adaptive ADC (Fig. 5d).** cimvp: " % (100 * v) + ", ".join(
            "%d-bit %+.1f" % (b, -100 * c) for b, c in costs) + " points"
        if ref:
            pc = []
            for b in sorted({k[0] for k in ref["5d"]}):
                a0 = min(((x, a) for (bb, x), a in ref["5d"].items() if bb == b), default=None)
                av = _paper_at(ref["5d"], b, v)
                if a0 and av is not None:
                    pc.append("%d-bit %+.1f" % (b, av - a0[1]))
            if pc:
                s += "; paper VGG8 (from its smallest variation): " + ", ".join(pc) + " points"
        L.append(s + ".")
    # SR vs single.
    for v in variations:
        d = [(b, get[(b, "sr_var", v)]["mean"] - get[(b, "lloyd_max_var", v)]["mean"]) for b in bits
             if has(b, "sr_var", v) and has(b, "lloyd_max_var", v)]
        if not d:
            continue
        ok = [b for b, x in d if x >= 0]
        s = ("- **SR minus single ADC at %g %% variation (Fig. 5e), mean over seeds.** cimvp: " % (100 * v) +
             ", ".join("%d-bit %+.1f" % (b, 100 * x) for b, x in d) + " points; SR at least as good at %s bits." %
             (", ".join(map(str, ok)) or "no"))
        if ref and "5e_Adaptive (Memristor w/ SR)" in ref:
            w_, wo = ref["5e_Adaptive (Memristor w/ SR)"], ref["5e_Adaptive (Memristor w/o SR)"]
            s += " Paper ResNet18/ImageNet: " + ", ".join("%d-bit %+.1f" % (b, w_[b] - wo[b]) for b in sorted(w_)
                                                           if b in wo)
            sw = ref.get("5e_Adaptive (Software)", {})
            if sw:
                s += "; paper SR vs variation-free software adaptive: " + ", ".join(
                    "%d-bit %+.1f" % (b, w_[b] - sw[b]) for b in sorted(w_) if b in sw)
            s += "."
        L.append(s)
    sr_vs_clean = [(b, v, get[(b, "sr_var", v)]["mean"] - get[(b, "lloyd_max", 0.0)]["mean"]) for b in bits
                   for v in variations if has(b, "sr_var", v) and has(b, "lloyd_max", 0.0)]
    if sr_vs_clean:
        L.append("- **SR with variation minus the variation-free adaptive ADC.** cimvp: " + ", ".join(
            "%d-bit %g %% %+.1f" % (b, 100 * v, 100 * x) for b, v, x in sr_vs_clean) + " points.")
    if meta.get("ideal_acc") is not None:
        gaps = [(b, meta["ideal_acc"] - get[(b, "lloyd_max", 0.0)]["mean"]) for b in bits if has(b, "lloyd_max", 0.0)]
        L.append("- **Adaptive ADC without variation vs the ideal ADC.** " + ", ".join(
            "%d-bit %+.1f" % (b, -100 * g) for b, g in gaps) + " points.")
    if not ref:
        L.append("- Paper reference data not found at `../shared/reference/readc`: no paper numbers in this run.")
    L.append("")
    L.append(END)
    return "\n".join(L)


def update_results_md(section):
    path = os.path.join(ROOT, "docs", "results.md")
    text = open(path).read() if os.path.exists(path) else "# Results\n\n"
    if BEGIN in text and END in text:
        a, rest = text.split(BEGIN, 1)
        _, b = rest.split(END, 1)
        text = a + section + b
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    open(path, "w").write(text)


def recorded_command(argv, defaults):
    """The command line as it is recorded in docs/results.md: paths inside the repository
    relative to it, options equal to their defaults left out."""
    out = ["/usr/bin/python3", "tools/run_study.py"]
    i = 0
    while i < len(argv):
        a = argv[i]
        key, val = (a.split("=", 1) + [None])[:2] if a.startswith("--") and "=" in a else (a, None)
        if val is None and a.startswith("--") and a not in ("--quick", "--no-docs") and i + 1 < len(argv):
            val = argv[i + 1]
            i += 1
        i += 1
        if val is not None and os.path.isabs(val) and os.path.abspath(val).startswith(ROOT + os.sep):
            val = os.path.relpath(val, ROOT)
        if key in defaults and val is not None and os.path.normpath(str(val)) == os.path.normpath(str(defaults[key])):
            continue
        out.append(key if val is None else "%s %s" % (key, "'%s'" % val if " " in val else val))
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cimvp", default=os.path.join(ROOT, "build", "cimvp"))
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "study-adc-bits.yaml"))
    ap.add_argument("--out", default=None, help="output folder (default out/study-adc-bits, --quick: "
                                                "out/study-adc-bits-quick)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--bits", default="3,4,5,6")
    ap.add_argument("--variations", default="0.01,0.03")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--clean-images", type=int, default=10000)
    ap.add_argument("--noisy-images", type=int, default=2000)
    ap.add_argument("--calib-images", type=int, default=0, help="override calibration.images (0: the scenario's)")
    ap.add_argument("--ideal-images", type=int, default=0, help="also run the ideal-ADC reference on this many")
    ap.add_argument("--scale-note", default="", help="sentence for docs/results.md when the image counts were scaled down")
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs/results.md")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test of the script: 4 bits, 1 %% variation, 1 seed, 100 images per point, 20 "
                         "calibration images, 100 ideal images; writes to out/study-adc-bits-quick, never docs")
    a = ap.parse_args()
    if a.quick:
        a.bits, a.variations, a.seeds = "4", "0.01", 1
        a.clean_images = a.noisy_images = a.ideal_images = 100
        a.calib_images = 20
        a.no_docs = True
    if a.out is None:
        a.out = os.path.join(ROOT, "out", "study-adc-bits-quick" if a.quick else "study-adc-bits")
    if not os.path.exists(a.cimvp):
        sys.exit("cimvp binary not found at %s (build it: cmake --build build, or pass --cimvp)" % a.cimvp)
    os.makedirs(a.out, exist_ok=True)
    bits = [int(x) for x in a.bits.split(",")]
    variations = [float(x) for x in a.variations.split(",")]
    pts = points(bits, variations, a.seeds, a.clean_images, a.noisy_images)
    if a.ideal_images:  # the infinite-resolution reference, in the same pool as the sweep points
        pts.append(dict(bits=0, method="ideal", mode="ideal", variation=0.0, seed=1, images=a.ideal_images))
    pts.sort(key=lambda p: -p["images"])  # long runs first: better packing on few cores
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        rows = list(ex.map(lambda p: run_point(a.cimvp, a.scenario, a.out, a.calib_images, p), pts))
    wall_s = time.time() - t0
    ideal = [r for r in rows if r["method"] == "ideal"]
    rows.sort(key=lambda r: (r["bits"], r["method"], r["variation"], r["seed"]))
    with open(os.path.join(a.out, "accuracy.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    summary = summarise([r for r in rows if r["method"] != "ideal"])
    with open(os.path.join(a.out, "accuracy_summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(summary)
    ref = read_paper()
    fig = os.path.join(a.out, "fig5_like.png")
    ideal_acc = ideal[0]["accuracy"] if ideal and not math.isnan(ideal[0]["accuracy"]) else None
    plotted = plot(summary, variations, fig, ref, ideal_acc)
    defaults = {"--cimvp": os.path.join("build", "cimvp"), "--scenario": os.path.join("scenarios", "study-adc-bits.yaml"),
                "--out": os.path.join("out", "study-adc-bits")}
    command = recorded_command(sys.argv[1:], defaults)
    meta = dict(command=command, date=time.strftime("%Y-%m-%d"), runs=len(rows), minutes=wall_s / 60.0, jobs=a.jobs,
                calib=a.calib_images or _calib_images(a.scenario), clean=a.clean_images, noisy=a.noisy_images,
                seeds=a.seeds, scale_note=a.scale_note, fig=os.path.relpath(fig, ROOT),
                study_json=os.path.relpath(os.path.join(a.out, "study.json"), ROOT))
    if ideal_acc is not None:
        meta["ideal"] = "%.1f %% (%d images)" % (100 * ideal_acc, ideal[0]["images"])
        meta["ideal_acc"] = ideal_acc
    else:
        meta["ideal"] = "n/a (not run, or the run failed: see stderr)"
    with open(os.path.join(a.out, "study.json"), "w") as f:
        json.dump(dict(command=command, date=meta["date"], wall_seconds=round(wall_s, 1), jobs=a.jobs, runs=len(rows),
                       failed=sum(1 for r in rows if math.isnan(r["accuracy"])),
                       paper_reference=REF if ref else None,
                       points=[dict(bits=r["bits"], method=r["method"], variation=r["variation"], seed=r["seed"],
                                    images=r["images"], wall_s=r["wall_s"], accuracy=r["accuracy"]) for r in rows]),
                  f, indent=1)
    print("study: %d runs in %.1f min wall time; %s" % (len(rows), wall_s / 60.0, os.path.join(a.out, "accuracy.csv")))
    print("  plot: %s" % (fig if plotted else "skipped (no matplotlib)"))
    print("  paper reference: %s" % (REF if ref else "not found (plot and docs without it)"))
    print("  ideal ADC: %s" % meta["ideal"])
    for s in summary:
        extra = ""
        if s["sr_disagree_rate"] != "":
            extra = "  SR disagree %.2f %%" % (100 * s["sr_disagree_rate"])
        print("  %d-bit %-14s var %4.1f%%: %.2f%% +- %.2f (%d runs x %d images)%s" %
              (s["bits"], s["method"], 100 * s["variation"], 100 * s["mean"], 100 * s["std"], s["runs"], s["images"],
               extra))
    failed = [r for r in rows if math.isnan(r["accuracy"])]
    if not a.no_docs:
        if failed:
            print("study: %d runs failed: docs/results.md left unchanged" % len(failed))
        else:
            update_results_md(results_section(summary, variations, ref, meta))
            print("study: docs/results.md study section regenerated")
    return 1 if failed else 0


def _calib_images(scenario):
    section = ""
    for line in open(scenario):
        s = line.split("#")[0].strip()
        if s.startswith("images:") and section == "calibration:":
            return int(s.split(":")[1])
        if line[:1] not in (" ", "\t", "") and s.endswith(":"):
            section = s
    return 0


if __name__ == "__main__":
    sys.exit(main())
