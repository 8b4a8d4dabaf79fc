#!/usr/bin/python3
"""tools/plot_report.py run as a program on run folders with known answers; the figures checked
are the ones the script itself prints (its stdout), not numbers recomputed here:
  - the paper's Fig. 5a samples (4 bits) with no thresholds file: the script's own Lloyd-Max
    reaches MSE ~2.90 and its uniform min..max reference 7.12 (shared/reference/readc/README.md);
  - a hand-made group with a thresholds file (mid-tread uniform, Lloyd-Max, achieved Q-cell edges
    with a gap): the MSE of each set equals the hand-computed value;
  - power/energy/area PNGs and the ADC histograms are written.
Skips (exit 77) without numpy/matplotlib or without the reference data."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REF = os.path.join(ROOT, "..", "shared", "reference", "readc", "fig5_5a_original_data.csv")
SCRIPT = os.path.join(ROOT, "tools", "plot_report.py")

try:
    import numpy  # noqa: F401
    import matplotlib  # noqa: F401
except ImportError as e:
    print("SKIP: %s" % e)
    sys.exit(77)


def mse_line(out, group):
    """{set: mse} from the script's line 'adc <group>: N samples, B bits; MSE (digits^2): k v, ...'."""
    m = re.search(r"^adc %s: (\d+) samples, (\d+) bits; MSE \(digits\^2\): (.*)$" % re.escape(group), out, re.M)
    assert m, "no MSE line for %s in:\n%s" % (group, out)
    sets = dict((k, float(v)) for k, v in (p.split() for p in m.group(3).split(", ")))
    return int(m.group(1)), int(m.group(2)), sets


def main():
    if not os.path.exists(REF):
        print("SKIP: %s absent" % REF)
        return 77
    d = tempfile.mkdtemp(prefix="plot_report_")
    try:
        # A minimal run folder in the files' documented format, 14 component kinds in power.csv.
        kinds = ["cpu", "bus", "sram", "hostmem", "sysctl", "irq", "pmu", "dma", "dpu", "progctl",
                 "tile0", "tile0.array", "tile0.periphery", "tile0_adc"]
        with open(os.path.join(d, "power.csv"), "w") as f:
            f.write("time_ns," + ",".join(k + "_mW" for k in kinds) + ",total_mW\n")
            for b in range(3):
                v = [1.0 + i + b for i in range(len(kinds))]
                f.write("%d,%s,%g\n" % (100 * b, ",".join("%g" % x for x in v), sum(v)))
        with open(os.path.join(d, "energy_breakdown.csv"), "w") as f:
            f.write("component,dynamic_pJ,static_pJ,total_pJ,share\ncpu,300,50,350,0.6\ntile0_adc,250,0,250,0.4\n")
        with open(os.path.join(d, "area_breakdown.csv"), "w") as f:
            f.write("component,area_um2,share\ncpu,100,0.5\ntile0_adc,100,0.5\n")
        with open(os.path.join(d, "summary.json"), "w") as f:
            f.write('{"adc": {"mode": "qcell", "bits": 4}}\n')
        shutil.copy(REF, os.path.join(d, "adc_capture_fig5a.csv"))
        # Hand-made 2-bit group: samples, and every threshold set of adc_thresholds_<group>.csv.
        os.makedirs(os.path.join(d, "two"))
        for name in ("power.csv", "energy_breakdown.csv", "area_breakdown.csv"):
            shutil.copy(os.path.join(d, name), os.path.join(d, "two", name))
        with open(os.path.join(d, "two", "summary.json"), "w") as f:
            f.write('{"adc": {"mode": "qcell", "bits": 2}}\n')
        with open(os.path.join(d, "two", "adc_capture_layer0.csv"), "w") as f:
            f.write("sample_digits\n" + "\n".join(str(v) for v in (-3, -1, 0, 0, 1, 2, 0.85)) + "\n")
        rows = {"uniform": [-1.5, -0.5, 0.5], "uniform_level": [-2, -1, 0, 1],
                "lloyd_max": [-2, -0.5, 0.75], "lloyd_max_level": [-3, -1, 0, 1.5],
                "achieved_edge": [-4, -2, -2, -0.5, -0.5, 0.5, 1.5, 3]}
        with open(os.path.join(d, "two", "adc_thresholds_layer0.csv"), "w") as f:
            f.write("kind,index,value\n")
            for k, vs in rows.items():
                for i, v in reversed(list(enumerate(vs))):  # any row order
                    f.write("%s,%d,%g\n" % (k, i, v))

        out = subprocess.run(["/usr/bin/python3", SCRIPT, d], capture_output=True, text=True, check=True).stdout
        n, bits, m = mse_line(out, "fig5a")
        assert bits == 4 and n > 1000, (n, bits)
        assert abs(m["lloyd_max"] - 2.90) < 0.02, m
        assert abs(m["uniform"] - 7.12) < 0.01, m
        assert "achieved" not in m
        for png in ("power.png", "energy_breakdown.png", "area_breakdown.png", "adc_fig5a.png"):
            assert os.path.getsize(os.path.join(d, png)) > 10000, png

        out2 = subprocess.run(["/usr/bin/python3", SCRIPT, os.path.join(d, "two")], capture_output=True, text=True,
                              check=True).stdout
        n, bits, m = mse_line(out2, "layer0")
        assert (n, bits) == (7, 2), (n, bits)
        # Hand-computed: uniform errors 1 (-3 -> -2), 1 (2 -> 1), 0.15^2 (0.85 -> 1);
        # Lloyd-Max 0.5^2 (1, 2 -> 1.5), 0.65^2 (0.85 -> 1.5); achieved: 1 and 0.85 fall in the
        # gap [0.5, 1.5): 1 at equal distance from both windows -> the lower (level 0): 1^2,
        # 0.85 nearer the lower: 0.85^2; 2 -> 1.5: 0.5^2.
        want = {"uniform": (1 + 1 + 0.0225) / 7, "lloyd_max": (0.25 + 0.25 + 0.4225) / 7,
                "achieved": (1 + 0.25 + 0.7225) / 7}
        for k, v in want.items():
            assert abs(m[k] - v) < 1e-5 * v, (k, m[k], v)
        assert os.path.getsize(os.path.join(d, "two", "adc_layer0.png")) > 10000

        sys.path.insert(0, os.path.join(ROOT, "tools"))
        import plot_report
        assert plot_report.kind("tile12_adc") == "adc" and plot_report.kind("tile3.array") == "crossbar array"
        print("plot_report: PNGs written; its Lloyd-Max MSE %.3f (reference ~2.90), uniform %.3f (7.12); "
              "hand-made group matches" % (mse_line(out, "fig5a")[2]["lloyd_max"], mse_line(out, "fig5a")[2]["uniform"]))
        return 0
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    sys.exit(main())
