#!/usr/bin/python3
"""Train the example Fashion-MNIST CNN and export it to ONNX (opset 13).

Run with Debian's python (python3-torch, python3-onnx):
    /usr/bin/python3 tools/train_fashion_mnist.py [--epochs N] [--out scenarios/models]

Input normalisation (the contract the platform relies on): pixel / 255, i.e. float32 in
[0, 1], NO mean/std normalisation, so the chip's unsigned input codes map linearly to pixels.
Input tensor "input" has shape [N, 1, 28, 28] (N dynamic); output "logits" is [N, 10].

Network (about 0.71 M MACs per image, kept small because the chip simulates every MAC
bit-serially):
    Conv(1->16, 3x3) + BN + ReLU + MaxPool2   -> 16x13x13
    Conv(16->32, 3x3) + BN + ReLU + MaxPool2  -> 32x5x5
    Flatten -> Gemm(800->64) + ReLU -> Gemm(64->10)

Data: IDX files of Debian's dataset-fashion-mnist, read directly with gzip + numpy.
Determinism: fixed seeds, single-process data order from a seeded numpy generator.
The platform itself never needs Python; this script only regenerates the committed model.
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """Minimal IDX reader: magic (0,0,dtype=0x08,ndim), big-endian u32 dims, u8 payload."""
    if not os.path.exists(path):
        sys.exit(f"{path}: not found; install the Debian package dataset-fashion-mnist")
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        sys.exit(f"{path}: bad IDX magic")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load(split):
    x = read_idx(f"{DATA_DIR}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(f"{DATA_DIR}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return x[:, None, :, :], y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10)  # what produced the committed model (see its log)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "scenarios", "models"))
    args = ap.parse_args()

    import torch
    import torch.nn as nn

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    xtr, ytr = load("train")
    xte, yte = load("t10k")
    xtr_t, ytr_t = torch.from_numpy(xtr), torch.from_numpy(ytr)
    xte_t, yte_t = torch.from_numpy(xte), torch.from_numpy(yte)

    model = nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(800, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    lossf = nn.CrossEntropyLoss()

    log_lines = []

    def log(msg):
        print(msg, flush=True)
        log_lines.append(msg)

    def evaluate():
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(xte_t), 1000):
                correct += (model(xte_t[i:i + 1000]).argmax(1) == yte_t[i:i + 1000]).sum().item()
        return correct / len(xte_t)

    log(f"# tools/train_fashion_mnist.py seed={args.seed} epochs={args.epochs} "
        f"batch={args.batch} lr={args.lr} (Adam, cosine) torch={torch.__version__}")
    log("# input: pixel/255 in [0,1], no mean/std normalisation; shape [N,1,28,28]")
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = rng.permutation(len(xtr_t))
        total, n = 0.0, 0
        for i in range(0, len(perm), args.batch):
            idx = torch.from_numpy(perm[i:i + args.batch])
            opt.zero_grad()
            loss = lossf(model(xtr_t[idx]), ytr_t[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            n += len(idx)
        sched.step()
        acc = evaluate()
        log(f"epoch {epoch + 1} train_loss {total / n:.4f} test_accuracy {acc:.4f} "
            f"elapsed_s {time.time() - t0:.1f}")

    model.eval()
    acc = evaluate()
    # Predictions on the first 1000 test images: the log's first500 / first1000 accuracies.
    with torch.no_grad():
        pred = model(xte_t[:1000]).argmax(1).numpy()
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "fashion_cnn.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), onnx_path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True)
    acc500 = float((pred[:500] == yte[:500]).mean())
    log(f"final float test_accuracy {acc:.4f} (10000 images)")
    log(f"float test_accuracy_first500 {acc500:.4f}")
    log(f"float test_accuracy_first1000 {float((pred == yte[:1000]).mean()):.4f}")
    log(f"exported {os.path.basename(onnx_path)} opset 13 bytes {os.path.getsize(onnx_path)}")
    with open(os.path.join(args.out, "fashion_cnn.log"), "w") as f:
        f.write("\n".join(log_lines) + "\n")
    if acc < 0.90:
        sys.exit(f"float test accuracy {acc:.4f} < 0.90")


if __name__ == "__main__":
    main()
