#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora: small valid files and the known-bad cases of the
reliability issue, one file each, so that libFuzzer starts from the shapes that matter and every
run replays them. Run from this folder: python3 make_corpus.py (the files are committed)."""
import gzip, json, math, os, struct

def save(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)

def idx(shape, body):
    return bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape) + bytes(body)

# IDX behind gzip.
save("corpus/idx", "valid-images", gzip.compress(idx([2, 28, 28], range(256)) + bytes(2 * 784 - 256)))
save("corpus/idx", "valid-labels", gzip.compress(idx([5], [1, 2, 3, 4, 9])))
save("corpus/idx", "two-members", gzip.compress(idx([3], [])) + gzip.compress(bytes([7, 8, 9])))
save("corpus/idx", "junk-after", gzip.compress(idx([1], [5])) + b"junk")
save("corpus/idx", "zero-padded", gzip.compress(idx([1], [5])) + bytes(8))
save("corpus/idx", "truncated", gzip.compress(idx([4, 2], range(8)))[:20])
save("corpus/idx", "overflowing-shape", gzip.compress(bytes([0, 0, 8, 4]) + b"\xff" * 16))
save("corpus/idx", "declares-too-much", gzip.compress(idx([60000, 28, 28], [])))
save("corpus/idx", "zeros-bomb", gzip.compress(bytes(1 << 20)))
save("corpus/idx", "floats-magic", gzip.compress(bytes([0, 0, 9, 1, 0, 0, 0, 1, 7])))

def safetensors(tensors, metadata=None, header_length=None):
    entries, data, offset = {}, b"", 0
    for name, shape, values in tensors:
        raw = struct.pack("<%df" % len(values), *values)
        entries[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    if metadata is not None:
        entries["__metadata__"] = metadata
    header = json.dumps(entries, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    length = len(header) if header_length is None else header_length
    return struct.pack("<Q", length) + header + data

params = [("0.weight", [2, 1, 3, 3]), ("0.bias", [2]), ("3.weight", [10, 8]), ("3.bias", [10])]
def tensors(prefix="", scale=0.01):
    return [(prefix + n, s, [scale * i for i in range(math.prod(s))]) for n, s in params]
history = [{"epoch": 1, "trainLoss": 1.5, "trainAccuracy": 0.5, "testAccuracy": 0.5, "imagesPerSecond": 100.0}]
meta = {"model": "tiny", "seed": "42", "batch_size": "4", "epoch": "1", "batch": "1", "seen": "4",
        "correct": "2", "loss_sum": "6.0", "history": json.dumps(history)}
momentum = tensors() + tensors("optimizer.momentum.")
adam = tensors() + tensors("optimizer.adam.m.") + tensors("optimizer.adam.v.") + [("optimizer.adam.steps", [1], [3.0])]

for folder in ["corpus/safetensors", "corpus/checkpoint"]:
    save(folder, "valid-momentum", safetensors(momentum, meta))
    save(folder, "valid-adam", safetensors(adam, meta))
    save(folder, "momentum-shape-1", safetensors(tensors() + [("optimizer.momentum.3.weight", [1], [0.0])], meta))
    save(folder, "momentum-bias-short", safetensors(tensors() + [("optimizer.momentum.0.bias", [1], [0.0])], meta))
    save(folder, "epoch-negative", safetensors(momentum, dict(meta, epoch="-5")))
    save(folder, "batch-negative", safetensors(momentum, dict(meta, batch="-1")))
    save(folder, "history-garbage", safetensors(momentum, dict(meta, history="{[")))
    save(folder, "other-model", safetensors(momentum, dict(meta, model="LeNet")))
    save(folder, "nan-weight", safetensors([("0.weight", [2, 1, 3, 3], [float("nan")] * 18)] + tensors()[1:], meta))
    save(folder, "adam-steps-nan", safetensors(adam[:-1] + [("optimizer.adam.steps", [1], [float("nan")])], meta))
    save(folder, "huge-shape", safetensors([("w", [2**62], [])], meta))
    save(folder, "shape-product-overflow", safetensors([("w", [2**32, 2**32], [])], meta))
    save(folder, "header-length-2-63", safetensors(momentum, meta, header_length=2**63))
    # 0.bias's bytes moved to start inside 0.weight's.
    overlapping = safetensors(tensors(), meta).replace(b'"data_offsets":[72,80]', b'"data_offsets":[68,76]')
    save(folder, "overlapping-offsets", overlapping)
