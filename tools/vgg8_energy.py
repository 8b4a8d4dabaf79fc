#!/usr/bin/python3
"""Analytic energy/area model of VGG8 (CIFAR-10, one image) mapped onto the cimvp chip.

ANALYTIC, NOT A SIMULATION: it applies the platform's own accounting rules (models/crossbar/
tile.cpp, models/adc/adc_bank.cpp, the crossbar core's V^2*G*t read energy) to the VGG8 layer
shapes, with the figures of the same tech tables the platform reads (scenarios/tech/*.yaml) and
the chip of scenarios/vgg8-cifar10-energy.yaml. Activity (input bits that are 1, conductances)
comes from synthetic He-normal weights and one synthetic uniform image (tools/vgg8_model.py),
quantized exactly as the chip maps them. Used until the network flow runs CIFAR-shaped inputs.

  /usr/bin/python3 tools/vgg8_energy.py [--seed 8] [--json OUT.json] [--markdown OUT.md]

Per layer (one image, B = output positions, C = input_bits cycles, S = weight slices):
  tiles        = ceil(K/rows) x ceil(N / (cols / (2 S)))          (differential pairs)
  conversions  = B x C x S x N x row_blocks                       (every tile converts its columns)
  array pJ     = sum over cycles, rows with input bit 1 of  V^2 x t_read x sum_row G  (uS V^2 ns = fJ)
  dac events   = B x C x K x col_blocks;  mux = shift-add = conversions
  buffer bytes = B x K x col_blocks + 4 x B x N x row_blocks     (uint8 in, float32 out per tile)
  sram/bus     = the same bytes read from / written to the global buffer over the bus
  latency      = B x C x (t_read + ceil(n_tile S / n_adcs) x t_conv) + B x t_shift_add  (tiles of a
                 layer in parallel, layers in sequence, no pipelining)
  static       = leakage of everything x total latency
Not modelled: host-CPU control (firmware issue cost), DPU post-ops, the input image's DMA.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vgg8_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def formula(f, bits):
    if isinstance(f, (int, float)):
        return float(f)
    return (f.get("c0", 0.0) + f.get("per_bit", 0.0) * bits + f.get("per_level", 0.0) * 2**bits
            + f.get("per_bit_sq", 0.0) * bits * bits)


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def popcount(a):
    a = a.astype(np.int64)
    n = np.zeros(a.shape, dtype=np.int64)
    while np.any(a):
        n += a & 1
        a >>= 1
    return n


def layer_activity(kind, codes, in_hw):
    """ones[k]: sum over vectors and input cycles of bit k of the crossbar input; B vectors."""
    bits = popcount(codes)
    if kind == "fc":
        return bits.reshape(-1).astype(np.float64), 1
    c, h, w = bits.shape
    bp = np.pad(bits, ((0, 0), (1, 1), (1, 1)))
    ones = np.empty(c * 9)
    i = 0
    for ci in range(c):
        for dy in range(3):
            for dx in range(3):
                ones[i] = bp[ci, dy:dy + h, dx:dx + w].sum()
                i += 1
    return ones, h * w


def digit_sums(w, weight_bits, cell_bits):
    """Per weight: sum of the 2-bit cell digits of |q| (q = round(w / (max|w| / (2^(wb-1)-1))))."""
    qmax = 2 ** (weight_bits - 1) - 1
    scale = float(np.abs(w).max()) / qmax
    q = np.abs(np.rint(w / scale)).astype(np.int64)
    slices = math.ceil((weight_bits - 1) / cell_bits)
    ds = np.zeros(q.shape, dtype=np.int64)
    for s in range(slices):
        ds += (q >> (s * cell_bits)) & ((1 << cell_bits) - 1)
    return ds, slices


def study(scenario_path, tech_path, adc_mode, seed, g_min=None, g_max=None, v_read=None, adc_bits=None):
    sc = load_yaml(scenario_path)
    tech = load_yaml(tech_path)
    cb = sc["chip"]["crossbar"]
    rows, cols = cb["rows"], cb["cols"]
    wb, cbits, ib = cb["weight_bits"], cb["cell_bits"], cb["input_bits"]
    dev = cb.get("device", {})
    gmin = g_min if g_min is not None else dev.get("g_min_us", 100.0)
    gmax = g_max if g_max is not None else dev.get("g_max_us", 400.0)
    adc = sc["chip"]["adc"]
    bits, share = (adc_bits or adc["bits"]), adc["share"]
    t = tech["crossbar"]
    vr = v_read if v_read is not None else t["v_read"]
    at = tech["adc"][adc_mode]
    e_conv = formula(at["energy_pj"], bits)
    t_conv = formula(at["time_ns"], bits)
    a_adc = formula(at["area_um2"], bits)
    l_adc = formula(at["leakage_uw"], bits)
    n_adcs = max(1, cols // share)
    step = (gmax - gmin) / (2**cbits - 1)
    sram, bus = tech["sram"], tech["bus"]

    ws, image = vgg8_model.make_weights(seed)
    codes, _ = vgg8_model.forward_codes(ws, image, ib)

    E = {k: 0.0 for k in ("array", "dac", "mux", "shift_add", "buffer", "adc", "sram", "bus")}
    layers = []
    latency_ns = 0.0
    tiles_total = 0
    macs_total = 0
    for (name, kind, cin, cout, hw, k, pool), w, q in zip(vgg8_model.LAYERS, ws, codes):
        K = cin * k * k
        N = cout
        wm = w.reshape(N, K).T  # K x N, row k = input element k (c, dy, dx order as im2col)
        ds, S = digit_sums(wm, wb, cbits)
        per_tile_n = cols // (2 * S)
        rb, cbk = math.ceil(K / rows), math.ceil(N / per_tile_n)
        ones, B = layer_activity(kind, q, hw)
        # Row sums of G per (row k, column block): used cells 2S*g_min + step*digits, unused at g_min.
        rowsum = np.zeros((K, cbk))
        for j in range(cbk):
            lo, hi = j * per_tile_n, min(N, (j + 1) * per_tile_n)
            used = hi - lo
            rowsum[:, j] = (2 * S * used * gmin + step * ds[:, lo:hi].sum(axis=1)
                            + (cols - 2 * S * used) * gmin)
        e_array = float((ones[:, None] * rowsum).sum()) * vr * vr * t["t_read_ns"] * 1e-3
        conv = B * ib * S * N * rb
        dac = B * ib * K * cbk
        buf_bytes = B * K * cbk + 4 * B * N * rb
        e = {
            "array": e_array,
            "dac": dac * t["dac_pj_per_row_cycle"],
            "mux": conv * t["mux_pj_per_conversion"],
            "shift_add": conv * t["shift_add_pj_per_op"],
            "buffer": buf_bytes * t["buffer_pj_per_byte"],
            "adc": conv * e_conv,
            "sram": B * K * cbk * sram["read_pj_per_byte"] + 4 * B * N * rb * sram["write_pj_per_byte"],
            "bus": buf_bytes * bus["energy_pj_per_byte"],
        }
        rounds = math.ceil(min(per_tile_n, N) * S / n_adcs)
        lat = B * ib * (t["t_read_ns"] + rounds * t_conv) + B * t["shift_add_ns_per_vector"]
        for key, v in e.items():
            E[key] += v
        latency_ns += lat
        tiles = rb * cbk
        tiles_total += tiles
        macs_total += B * K * N
        layers.append({"layer": name, "K": K, "N": N, "vectors": B, "tiles": tiles, "conversions": conv,
                       "input_bit_density": float(ones.sum() / (B * ib * K)), "latency_ns": lat,
                       "energy_pj": e})

    # Area and leakage.
    tile_cells = rows * cols * t["cell_area_um2"]
    sram_kib = 0
    for m in sc["memory_map"]:
        if m["block"] == "sram":
            sram_kib += m["size"] / 1024
    area = {
        "array": tiles_total * tile_cells,
        "periphery": tiles_total * t["periphery_area_um2"],
        "adc": tiles_total * n_adcs * a_adc,
        "sram": sram_kib * sram["area_um2_per_kib"],
        "cpu+bus+registers": (tech["host_cpu"]["area_um2"] + bus["area_um2"] + 4 * tech["registers"]["area_um2"]),
    }
    leak_uw = (tiles_total * (t["array_leakage_uw"] + t["periphery_leakage_uw"] + n_adcs * l_adc)
               + sram_kib * sram["leakage_uw_per_kib"] + tech["host_cpu"]["leakage_uw"] + bus["leakage_uw"]
               + 4 * tech["registers"]["leakage_uw"])
    E["static"] = leak_uw * 1e-6 * latency_ns * 1e-9 * 1e12  # uW x ns -> pJ
    total = sum(E.values())
    atot = sum(area.values())
    ops = 2 * macs_total
    return {
        "tech": tech["name"], "adc_mode": adc_mode, "adc_bits": bits, "adc_energy_pj_per_conversion": e_conv,
        "adc_area_um2": a_adc, "g_min_us": gmin, "g_max_us": gmax, "v_read": vr, "seed": seed,
        "tiles": tiles_total, "adcs": tiles_total * n_adcs, "macs": macs_total,
        "energy_pj": E, "energy_total_pj": total, "adc_energy_share": E["adc"] / total,
        # NeuroSim's "read energy": the macro's array + periphery + ADC, without buffers/SRAM/static.
        "adc_read_energy_share": E["adc"] / sum(E[k] for k in ("array", "dac", "mux", "shift_add", "adc")),
        "area_um2": area, "area_total_um2": atot, "adc_area_share": area["adc"] / atot,
        "latency_ns": latency_ns, "tops_per_w": ops / total, "layers": layers,
    }


def table(rows_):
    out = ["| case | ADC pJ/conv | energy (uJ) | ADC share of energy | ADC share of read energy | area (mm2) | ADC share of area | TOPS/W | latency (us) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in rows_:
        out.append("| %s | %.4f | %.3f | %.1f%% | %.1f%% | %.2f | %.1f%% | %.2f | %.1f |" % (
            label, r["adc_energy_pj_per_conversion"], r["energy_total_pj"] * 1e-6, 100 * r["adc_energy_share"],
            100 * r["adc_read_energy_share"],
            r["area_total_um2"] * 1e-6, 100 * r["adc_area_share"], r["tops_per_w"], r["latency_ns"] * 1e-3))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios/vgg8-cifar10-energy.yaml"))
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--adc-bits", type=int, help="override the scenario's chip.adc.bits (e.g. 4 for NeuroSim's release)")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    sar = os.path.join(ROOT, "scenarios/tech/rram22-sar.yaml")
    qc = os.path.join(ROOT, "scenarios/tech/rram22-qcell.yaml")
    # NeuroSim V1.x Param.cpp default RRAM: resistanceOn 240 kOhm, resistanceOff 100x (4.17 / 0.0417 uS).
    ns_dev = dict(g_min=1e6 / (240e3 * 100), g_max=1e6 / 240e3)
    cases = [
        ("SAR, paper window 100-400 uS", study(a.scenario, sar, "sar", a.seed, adc_bits=a.adc_bits)),
        ("Q-cell (Fig. 6 breakdown), 100-400 uS", study(a.scenario, qc, "qcell", a.seed, adc_bits=a.adc_bits)),
        ("Q-cell (15.1x/12.9x of SAR), 100-400 uS", study(a.scenario, sar, "qcell", a.seed, adc_bits=a.adc_bits)),
        ("SAR, NeuroSim device 0.04-4.2 uS", study(a.scenario, sar, "sar", a.seed, adc_bits=a.adc_bits, **ns_dev)),
        ("Q-cell (Fig. 6), NeuroSim device", study(a.scenario, qc, "qcell", a.seed, adc_bits=a.adc_bits, **ns_dev)),
        ("Q-cell (15.1x/12.9x), NeuroSim device", study(a.scenario, sar, "qcell", a.seed, adc_bits=a.adc_bits, **ns_dev)),
    ]
    md = ["ANALYTIC model (tools/vgg8_energy.py), VGG8 one image, seed %d, %d-bit ADCs" % (
        a.seed, cases[0][1]["adc_bits"]), "", table(cases), ""]
    for base, alt in ((0, 1), (0, 2), (3, 4), (3, 5)):
        b, q = cases[base][1], cases[alt][1]
        md.append("- %s -> %s: energy %+.1f%%, area %+.1f%%" % (
            cases[base][0], cases[alt][0], 100 * (q["energy_total_pj"] / b["energy_total_pj"] - 1),
            100 * (q["area_total_um2"] / b["area_total_um2"] - 1)))
    md.append("")
    b = cases[0][1]
    md.append("Energy by component, %s (pJ): " % cases[0][0] +
              ", ".join("%s %.4g" % (k, v) for k, v in b["energy_pj"].items()))
    b = cases[3][1]
    md.append("Energy by component, %s (pJ): " % cases[3][0] +
              ", ".join("%s %.4g" % (k, v) for k, v in b["energy_pj"].items()))
    md.append("Area by component, SAR (um2): " + ", ".join("%s %.4g" % (k, v) for k, v in cases[0][1]["area_um2"].items()))
    md.append("Layers (SAR, paper window): " + "; ".join(
        "%s %d tiles, input-bit density %.3f" % (l["layer"], l["tiles"], l["input_bit_density"]) for l in cases[0][1]["layers"]))
    text = "\n".join(md) + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({label: r for label, r in cases}, f, indent=1)


if __name__ == "__main__":
    main()
