#!/usr/bin/python3
"""ADC study of issue 7 (docs/calibration.md, docs/results.md): accuracy of the example
Fashion-MNIST network on cimvp for ADC bits x {uniform SAR, Lloyd-Max Q-cell without
variation, Lloyd-Max Q-cell with variation, super-resolution with variation} x variation.

Every point is one `cimvp run scenarios/study-adc-bits.yaml --set ...` process (the firmware
calibrates the ADCs on training images, then infers test images); points run in parallel
processes. Writes OUT/accuracy.csv (one row per run), OUT/accuracy_summary.csv (mean/std over
seeds), OUT/fig5_like.png, and regenerates the accuracy section of docs/results.md between
its markers. Compares with the paper's Fig. 5c-f data from ../shared/reference/readc when it
is present (read only, never copied).

    /usr/bin/python3 tools/run_study.py [--cimvp build/cimvp] [--jobs 2]
        [--clean-images 10000] [--noisy-images 2000] [--seeds 3] [--quick]
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


def run_point(cimvp, scenario, out_root, p):
    tag = "b%d_%s_v%g_s%d" % (p["bits"], p["method"], p["variation"], p["seed"])
    out = os.path.join(out_root, "runs", tag)
    cmd = [cimvp, "run", scenario, "--out", out, "--quiet", "--seed", str(p["seed"]), "--images", str(p["images"]),
           "--set", "chip.adc.mode=" + p["mode"], "--set", "chip.adc.variation_frac=%g" % p["variation"]]
    if p["bits"]:
        cmd += ["--set", "chip.adc.bits=%d" % p["bits"]]
    if p["mode"] == "ideal":  # reference point: nothing to calibrate
        cmd += ["--set", "calibration.enabled=false"]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    row = dict(p, wall_s=round(wall, 1), accuracy=float("nan"), mse_uniform="", mse_lloyd_max="", mse_achieved="")
    if r.returncode != 0:
        sys.stderr.write("point %s failed (exit %d): %s\n" % (tag, r.returncode, r.stderr.strip()[-400:]))
        return row
    s = json.load(open(os.path.join(out, "summary.json")))
    row["accuracy"] = s["accuracy"]
    layers = s.get("adc", {}).get("layers", [])
    row["mse_uniform"] = ";".join("%.4g" % l["mse_uniform"] for l in layers)
    row["mse_lloyd_max"] = ";".join("%.4g" % l["mse_lloyd_max"] for l in layers)
    row["mse_achieved"] = ";".join("%.4g" % l["mse_achieved"] for l in layers)
    sys.stderr.write("%-36s acc %.4f  (%d images, %.0f s)\n" % (tag, row["accuracy"], p["images"], wall))
    return row


def summarise(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["bits"], r["method"], r["variation"]), []).append(r)
    out = []
    for (b, m, v), rs in sorted(groups.items()):
        acc = [r["accuracy"] for r in rs if not math.isnan(r["accuracy"])]
        mean = sum(acc) / len(acc) if acc else float("nan")
        sd = math.sqrt(sum((a - mean) ** 2 for a in acc) / (len(acc) - 1)) if len(acc) > 1 else 0.0
        out.append(dict(bits=b, method=m, variation=v, runs=len(acc), images=rs[0]["images"], mean=mean, std=sd))
    return out


def read_paper():
    """Fig. 5c (VGG8 uniform vs adaptive) and 5e (ResNet18 SR) from the reference data, if present."""
    ref = {}
    try:
        with open(os.path.join(REF, "fig5_5c.csv")) as f:
            rows = list(csv.reader(f))
        ref["5c_float"] = float(rows[0][1])
        bits = [int(c.split("-")[0]) for c in rows[1][1:] if c]
        for r in rows[2:]:
            ref["5c_" + r[0].lower()] = dict(zip(bits, [float(x) for x in r[1:] if x]))
        with open(os.path.join(REF, "fig5_5e.csv")) as f:
            rows = list(csv.reader(f))
        ref["5e_float"] = float(rows[0][1])
        bits = [int(c.split("-")[0]) for c in rows[1][1:] if c]
        for r in rows[2:]:
            ref["5e_" + r[0]] = dict(zip(bits, [float(x) for x in r[1:] if x]))
        vd = {}
        with open(os.path.join(REF, "fig5_5d.csv")) as f:
            for r in list(csv.reader(f))[1:]:
                vd.setdefault((int(r[0]), float(r[1])), []).append(float(r[2]))
        ref["5d"] = {k: sum(v) / len(v) for k, v in vd.items()}
    except (OSError, ValueError, IndexError):
        return None
    return ref


def plot(summary, variations, path, ref, ideal_acc=None):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    get = {(s["bits"], s["method"], s["variation"]): s for s in summary}
    bits = sorted({s["bits"] for s in summary})
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    # (c)-like: uniform vs adaptive vs bits.
    w = 0.38
    for i, (m, lab) in enumerate([("uniform_sar", "Uniform (SAR)"), ("lloyd_max", "Adaptive (Lloyd-Max Q-cell)")]):
        ax[0].bar([b + (i - 0.5) * w for b in bits], [100 * get[(b, m, 0.0)]["mean"] for b in bits], w, label=lab)
    if ideal_acc is not None:
        for a_ in ax:
            a_.axhline(100 * ideal_acc, color="grey", ls=":", lw=1, label="ideal ADC")
    ax[0].set_title("(c-like) cimvp Fashion-MNIST: uniform vs adaptive")
    ax[0].set_xlabel("ADC bits"), ax[0].set_ylabel("accuracy (%)"), ax[0].set_xticks(bits)
    ax[0].set_ylim(0, 118), ax[0].legend(fontsize=8, loc="upper center", ncol=3)  # legend above the bars
    # (d)-like: accuracy vs variation per bits (Lloyd-Max single ADC).
    for b in bits:
        xs = [0.0] + list(variations)
        ys = [100 * get[(b, "lloyd_max", 0.0)]["mean"]] + [100 * get[(b, "lloyd_max_var", v)]["mean"] for v in variations]
        es = [0.0] + [100 * get[(b, "lloyd_max_var", v)]["std"] for v in variations]
        ax[1].errorbar([100 * x for x in xs], ys, yerr=es, marker="o", capsize=3, label="%d-bit" % b)
    ax[1].set_title("(d-like) adaptive Q-cell vs edge variation")
    ax[1].set_xlabel("edge variation (% of range)"), ax[1].set_ylabel("accuracy (%)"), ax[1].legend(fontsize=8)
    # (e)-like: single vs SR with variation.
    k = 0
    labels = []
    for v in variations:
        for m, lab in [("lloyd_max_var", "w/o SR"), ("sr_var", "w/ SR")]:
            ax[2].bar([b + (k - 1.5) * 0.2 for b in bits], [100 * get[(b, m, v)]["mean"] for b in bits], 0.2,
                      yerr=[100 * get[(b, m, v)]["std"] for b in bits], capsize=2, label="%s, %g%%" % (lab, 100 * v))
            k += 1
    ax[2].plot(bits, [100 * get[(b, "lloyd_max", 0.0)]["mean"] for b in bits], "k--", marker="x",
               label="adaptive, no variation")
    ax[2].set_title("(e/f-like) super-resolution with variation")
    ax[2].set_xlabel("ADC bits"), ax[2].set_ylabel("accuracy (%)"), ax[2].set_xticks(bits)
    ax[2].set_ylim(0, 125), ax[2].legend(fontsize=7, loc="upper center", ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def results_section(summary, variations, ref, meta):
    get = {(s["bits"], s["method"], s["variation"]): s for s in summary}
    bits = sorted({s["bits"] for s in summary})
    L = [BEGIN, "", "## Accuracy study (issue 7)", ""]
    L.append("Generated by `/usr/bin/python3 tools/run_study.py %s` on %s: %d runs in %.1f minutes "
             "(%d parallel processes, 2-core machine shared with other work). Scenario "
             "`scenarios/study-adc-bits.yaml` (the example network, %d calibration images from the training "
             "split, per-layer quantiser design in firmware: zero-pinned, variation-aware Lloyd-Max on the range clipped to the 0.05/99.95 %% percentiles, docs/calibration.md; uniform SAR = mid-tread two's-complement converter with the least-MSE full scale; direct-path edge variation `chip.adc.variation_frac` as a fraction of the range)." %
             (meta["args"], meta["date"], meta["runs"], meta["minutes"], meta["jobs"], meta["calib"]))
    L.append("")
    L.append("Test images per point: %d for the noise-free points, %d for the points with variation (%d seeds, "
             "mean +- sample std). %s" % (meta["clean"], meta["noisy"], meta["seeds"], meta["scale_note"]))
    L.append("")
    L.append("| bits | uniform SAR | Lloyd-Max Q-cell | " +
             " | ".join("Lloyd-Max, %g%% var | SR, %g%% var" % (100 * v, 100 * v) for v in variations) + " |")
    L.append("|---:|---:|---:|" + "---:|---:|" * len(variations))
    for b in bits:
        cells = ["%.1f" % (100 * get[(b, "uniform_sar", 0.0)]["mean"]), "%.1f" % (100 * get[(b, "lloyd_max", 0.0)]["mean"])]
        for v in variations:
            for m in ("lloyd_max_var", "sr_var"):
                s = get[(b, m, v)]
                cells.append("%.1f +- %.1f" % (100 * s["mean"], 100 * s["std"]))
        L.append("| %d | %s |" % (b, " | ".join(cells)))
    L.append("")
    L.append("Accuracy in %%; the ideal-ADC network scores %s, first test images "
             "(`--set chip.adc.mode=ideal --set calibration.enabled=false`). Figure: `%s` (not committed; "
             "regenerate)." % (meta.get("ideal", "n/a"), meta["fig"]))
    L.append("")
    # Claims checked from the data.
    lm_beats = [b for b in bits if get[(b, "lloyd_max", 0.0)]["mean"] > get[(b, "uniform_sar", 0.0)]["mean"]]
    L.append("Checks from this run: Lloyd-Max beats uniform at %s bits (of %s)." %
             (", ".join(map(str, lm_beats)) or "no", ", ".join(map(str, bits))))
    for v in variations:
        d = [get[(b, "sr_var", v)]["mean"] - get[(b, "lloyd_max_var", v)]["mean"] for b in bits]
        L.append("SR minus single-ADC at %g%% variation (mean over seeds), per bits %s: %s points." %
                 (100 * v, ", ".join(map(str, bits)), ", ".join("%+.1f" % (100 * x) for x in d)))
    L.append("")
    if ref:
        L.append("Paper reference (read from `../shared/reference/readc/fig5_5c.csv`, `fig5_5e.csv`, "
                 "not copied): VGG8/CIFAR-10 uniform %s vs adaptive %s (float %.1f); ResNet18 memristor w/o SR %s, "
                 "w/ SR %s." % (
                     ", ".join("%d-bit %.1f" % (b, v) for b, v in sorted(ref["5c_uniform"].items())),
                     ", ".join("%d-bit %.1f" % (b, v) for b, v in sorted(ref["5c_adaptive"].items())), ref["5c_float"],
                     ", ".join("%d-bit %.1f" % (b, v) for b, v in sorted(ref["5e_Adaptive (Memristor w/o SR)"].items())),
                     ", ".join("%d-bit %.1f" % (b, v) for b, v in sorted(ref["5e_Adaptive (Memristor w/ SR)"].items()))))
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cimvp", default=os.path.join(ROOT, "build", "cimvp"))
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "study-adc-bits.yaml"))
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "study-adc-bits"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--bits", default="3,4,5,6")
    ap.add_argument("--variations", default="0.01,0.03")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--clean-images", type=int, default=10000)
    ap.add_argument("--noisy-images", type=int, default=2000)
    ap.add_argument("--ideal-images", type=int, default=0, help="also run the ideal-ADC reference on this many")
    ap.add_argument("--scale-note", default="", help="sentence for docs/results.md when the image counts were scaled down")
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs/results.md")
    a = ap.parse_args()
    if not os.path.exists(a.cimvp):
        sys.exit("cimvp binary not found at %s (build it, or pass --cimvp)" % a.cimvp)
    os.makedirs(a.out, exist_ok=True)
    bits = [int(x) for x in a.bits.split(",")]
    variations = [float(x) for x in a.variations.split(",")]
    pts = points(bits, variations, a.seeds, a.clean_images, a.noisy_images)
    if a.ideal_images:  # the infinite-resolution reference, in the same pool as the sweep points
        pts.append(dict(bits=0, method="ideal", mode="ideal", variation=0.0, seed=1, images=a.ideal_images))
    pts.sort(key=lambda p: -p["images"])  # long runs first: better packing on few cores
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        rows = list(ex.map(lambda p: run_point(a.cimvp, a.scenario, a.out, p), pts))
    minutes = (time.time() - t0) / 60.0
    ideal = [r for r in rows if r["method"] == "ideal"]
    fields = ["bits", "method", "mode", "variation", "seed", "images", "accuracy", "wall_s", "mse_uniform",
              "mse_lloyd_max", "mse_achieved"]
    rows.sort(key=lambda r: (r["bits"], r["method"], r["variation"], r["seed"]))
    with open(os.path.join(a.out, "accuracy.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    summary = summarise([r for r in rows if r["method"] != "ideal"])
    with open(os.path.join(a.out, "accuracy_summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["bits", "method", "variation", "runs", "images", "mean", "std"])
        w.writeheader()
        w.writerows(summary)
    ref = read_paper()
    fig = os.path.join(a.out, "fig5_like.png")
    plot(summary, variations, fig, ref, ideal[0]["accuracy"] if ideal and not math.isnan(ideal[0]["accuracy"]) else None)
    args = " ".join(sys.argv[1:])
    meta = dict(args=args, date=time.strftime("%Y-%m-%d"), runs=len(rows), minutes=minutes, jobs=a.jobs,
                calib=_calib_images(a.scenario), clean=a.clean_images, noisy=a.noisy_images, seeds=a.seeds,
                scale_note=a.scale_note, fig=os.path.relpath(fig, ROOT))
    if ideal and not math.isnan(ideal[0]["accuracy"]):
        meta["ideal"] = "%.1f %% (%d images)" % (100 * ideal[0]["accuracy"], ideal[0]["images"])
        meta["ideal_acc"] = ideal[0]["accuracy"]
    else:
        meta["ideal"] = "n/a (not run, or the run failed: see stderr)"
    print("study: %d runs in %.1f min; %s" % (len(rows), minutes, os.path.join(a.out, "accuracy.csv")))
    print("  ideal ADC: %s" % meta["ideal"])
    for s in summary:
        print("  %d-bit %-14s var %4.1f%%: %.2f%% +- %.2f (%d runs x %d images)" %
              (s["bits"], s["method"], 100 * s["variation"], 100 * s["mean"], 100 * s["std"], s["runs"], s["images"]))
    if not a.no_docs:
        update_results_md(results_section(summary, variations, ref, meta))
        print("study: docs/results.md accuracy section regenerated")


def _calib_images(scenario):
    for line in open(scenario):
        s = line.split("#")[0].strip()
        if s.startswith("images:") and "calibration" in _calib_images.section:
            return int(s.split(":")[1])
        if not line.startswith(" ") and s.endswith(":"):
            _calib_images.section = s
    return 0


_calib_images.section = ""

if __name__ == "__main__":
    main()
