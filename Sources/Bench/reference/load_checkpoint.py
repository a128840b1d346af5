"""Loads one of our chapter checkpoints into d2l's PyTorch module and tests it on Fashion-MNIST:
the proof that PyTorch reads our weights unchanged (names, shapes, layouts). Never run by the
tests (they need no Python); run by hand in the bench's environment:

    .venv-bench/bin/python Sources/Bench/reference/load_checkpoint.py googlenet \\
        output/07-googlenet/checkpoint.safetensors

It reads the safetensors file with the standard library (an 8-byte header length, a JSON header,
then the tensors' bytes), loads every tensor not under "optimizer." with strict=True (a missing,
extra or misshapen tensor fails), resizes the test images to the checkpoint's image_size as ours
does (bilinear, pixel centres aligned: align_corners=False), and prints the test accuracy beside
the one the checkpoint recorded.
"""
import gzip
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

from pytorch_models import WORKLOADS

DATA = "/usr/share/datasets/fashion-mnist"


def read_safetensors(path):
    with open(path, "rb") as file:
        length = struct.unpack("<Q", file.read(8))[0]
        header = json.loads(file.read(length))
        data = file.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {entry['dtype']}, not F32")
        start, end = entry["data_offsets"]
        array = np.frombuffer(data[start:end], dtype="<f4").reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata


def test_images():
    with gzip.open(f"{DATA}/t10k-images-idx3-ubyte.gz") as file:
        images = np.frombuffer(file.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/t10k-labels-idx1-ubyte.gz") as file:
        labels = np.frombuffer(file.read(), dtype=np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32) / 255), torch.from_numpy(labels.astype(np.int64))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in WORKLOADS:
        raise SystemExit(f"usage: load_checkpoint.py {'|'.join(WORKLOADS)} CHECKPOINT")
    name, path = sys.argv[1], sys.argv[2]
    tensors, metadata = read_safetensors(path)
    state = {key: value for key, value in tensors.items() if not key.startswith("optimizer.")}
    model = WORKLOADS[name][0]()
    model.load_state_dict(state, strict=True)
    model.eval()
    size = int(metadata.get("image_size", WORKLOADS[name][2]))
    images, labels = test_images()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), 500):
            batch = images[start:start + 500]
            if size != 28:
                batch = F.interpolate(batch, size=(size, size), mode="bilinear", align_corners=False)
            correct += (model(batch).argmax(dim=1) == labels[start:start + 500]).sum().item()
    history = json.loads(metadata.get("history", "[]"))
    recorded = history[-1]["testAccuracy"] if history else None
    print(json.dumps({
        "model": metadata.get("model"), "tensors_loaded": len(state), "image_size": size,
        "pytorch_test_accuracy": correct / len(labels), "recorded_test_accuracy": recorded,
    }))


if __name__ == "__main__":
    main()
