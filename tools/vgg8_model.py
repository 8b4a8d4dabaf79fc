"""VGG8 for CIFAR-10 as in NeuroSim's NetWork_VGG8 (6 conv + 2 FC), with synthetic weights.

Shared by tools/make_vgg8_onnx.py (writes the ONNX model) and tools/vgg8_energy.py (the
analytic energy/area study). Weights: He-normal (std sqrt(2/fan_in)) from numpy's PCG64
seeded by the caller, so the same seed gives the same network. Input: one synthetic 32x32x3
image, uniform in [0, 1) from the same generator (there is no CIFAR-10 in the project; activity
is what the synthetic network makes of this image, see docs/results.md).
"""
import numpy as np

# NeuroSim DNN_NeuroSim NetWork_VGG8.csv: IFM H, W, C, kernel, OFM channels, pool after.
LAYERS = [
    # name, kind, in_ch, out_ch, in_hw, kernel, pool
    ("conv1", "conv", 3, 128, 32, 3, False),
    ("conv2", "conv", 128, 128, 32, 3, True),
    ("conv3", "conv", 128, 256, 16, 3, False),
    ("conv4", "conv", 256, 256, 16, 3, True),
    ("conv5", "conv", 256, 512, 8, 3, False),
    ("conv6", "conv", 512, 512, 8, 3, True),
    ("fc1", "fc", 8192, 1024, 1, 1, False),
    ("fc2", "fc", 1024, 10, 1, 1, False),
]


def make_weights(seed):
    rng = np.random.default_rng(seed)
    ws = []
    for name, kind, cin, cout, hw, k, pool in LAYERS:
        fan_in = cin * k * k
        if kind == "conv":
            w = rng.standard_normal((cout, cin, k, k)).astype(np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        else:
            w = rng.standard_normal((cout, cin)).astype(np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        ws.append(w)
    image = rng.random((3, 32, 32), dtype=np.float32)
    return ws, image


def quantize_unsigned(x, bits):
    """ReLU outputs to unsigned codes 0..2^bits-1, full scale = the tensor's max (one image)."""
    top = float(x.max())
    if top <= 0:
        return np.zeros(x.shape, dtype=np.int64)
    q = np.rint(x / top * (2**bits - 1))
    return np.clip(q, 0, 2**bits - 1).astype(np.int64)


def conv_same(x, w):
    """3x3 'same' convolution, stride 1: x (C,H,W), w (O,C,3,3) -> (O,H,W)."""
    c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    cols = np.empty((c * 9, h * wd), dtype=np.float64)
    i = 0
    for ci in range(c):
        for dy in range(3):
            for dx in range(3):
                cols[i] = xp[ci, dy:dy + h, dx:dx + wd].reshape(-1)
                i += 1
    return (w.reshape(w.shape[0], -1).astype(np.float64) @ cols).reshape(w.shape[0], h, wd)


def maxpool2(x):
    c, h, w = x.shape
    return x.reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))


def forward_codes(ws, image, input_bits):
    """Runs the network in float on quantized inputs; returns, per layer, the input codes the
    crossbar sees (conv: (C,H,W); fc: (K,)), and the logits."""
    codes = []
    x = image.astype(np.float64)
    for (name, kind, cin, cout, hw, k, pool), w in zip(LAYERS, ws):
        q = quantize_unsigned(np.maximum(x, 0), input_bits)
        codes.append(q)
        xin = q.astype(np.float64)
        if kind == "conv":
            y = conv_same(xin, w)
            y = np.maximum(y, 0)
            if pool:
                y = maxpool2(y)
        else:
            y = w.astype(np.float64) @ xin.reshape(-1)
            if name != LAYERS[-1][0]:
                y = np.maximum(y, 0)
        x = y
    return codes, x
