#!/usr/bin/python3
"""tools/plot_report.py on data with known answers: its Lloyd-Max on the paper's Fig. 5a samples
(4 bits) reaches MSE ~2.90 (shared/reference/readc/README.md), the ADC histogram PNG is written,
and the power/breakdown plots come out of a minimal run folder. Skips (exit 77) without
matplotlib or without the reference data."""
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REF = os.path.join(ROOT, "..", "shared", "reference", "readc", "fig5_5a_original_data.csv")

try:
    import numpy as np
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import plot_report
except ImportError as e:
    print("SKIP: %s" % e)
    sys.exit(77)


def main():
    d = tempfile.mkdtemp(prefix="plot_report_")
    try:
        # A minimal run folder (two components, three bins) in the files' documented format.
        with open(os.path.join(d, "power.csv"), "w") as f:
            f.write("time_ns,cpu_mW,tile0_adc_mW,total_mW\n0,1,2,3\n100,2,0,2\n200,0.5,0.5,1\n")
        with open(os.path.join(d, "energy_breakdown.csv"), "w") as f:
            f.write("component,dynamic_pJ,static_pJ,total_pJ,share\ncpu,300,50,350,0.6\ntile0_adc,250,0,250,0.4\n")
        with open(os.path.join(d, "area_breakdown.csv"), "w") as f:
            f.write("component,area_um2,share\ncpu,100,0.5\ntile0_adc,100,0.5\n")
        if not os.path.exists(REF):
            print("SKIP: %s absent" % REF)
            return 77
        shutil.copy(REF, os.path.join(d, "adc_capture_fig5a.csv"))
        sys.argv = ["plot_report.py", d]
        assert plot_report.main() == 0
        for png in ("power.png", "energy_breakdown.png", "area_breakdown.png", "adc_fig5a.png"):
            assert os.path.getsize(os.path.join(d, png)) > 10000, png
        x = np.loadtxt(REF, skiprows=1, delimiter=",", usecols=0)
        th, lv = plot_report.lloyd_max(x, 16)
        mse = float(np.mean((x - lv[np.searchsorted(th, x)]) ** 2))
        assert abs(mse - 2.90) < 0.02, mse
        assert len(th) == 15 and np.all(np.diff(th) > 0)
        # The uniform quantiser of the README: 16 levels from min to max, nearest level -> 7.12.
        lv_u = np.linspace(x.min(), x.max(), 16)
        mse_u = float(np.mean(np.min((x[:, None] - lv_u[None, :]) ** 2, axis=1)))
        assert abs(mse_u - 7.12) < 0.01, mse_u
        assert plot_report.kind("tile12_adc") == "adc" and plot_report.kind("tile3.array") == "crossbar array"
        print("plot_report: PNGs written; Lloyd-Max MSE %.3f (reference ~2.90), uniform %.3f (7.12)" % (mse, mse_u))
        return 0
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    sys.exit(main())
