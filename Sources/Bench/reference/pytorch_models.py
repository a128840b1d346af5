"""The reference side of `make bench-compare`: the same model workloads as ours, in PyTorch on
the CPU and (for inference) in onnxruntime from PyTorch's ONNX export.

Prints one JSON object: images/s for training (forward, backward, SGD step) and inference, and
the peak resident memory of this process. Run by `bench --compare`, never by the tests.
usage: python pytorch_models.py MODEL THREADS REPEATS   (MODEL: lenet | alexnet | vgg | nin | googlenet)
"""
import json
import warnings
import os
import resource
import sys
import tempfile
import time

import torch
from torch import nn


def lenet():
    # d2l's LeNet: sigmoid, average pooling, 61,706 parameters.
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def alexnet():
    # d2l's AlexNet for 1x224x224 Fashion-MNIST: 46,764,746 parameters.
    return nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 10))


def vgg():
    # d2l's small VGG-11 (a quarter of the channels) for 1x224x224: 43,093,322 parameters.
    blocks, channels = [], 1
    for convolutions, outputs in [(1, 16), (1, 32), (2, 64), (2, 128), (2, 128)]:
        layers = []
        for _ in range(convolutions):
            layers += [nn.Conv2d(channels, outputs, kernel_size=3, padding=1), nn.ReLU()]
            channels = outputs
        blocks.append(nn.Sequential(*layers, nn.MaxPool2d(2, 2)))
    return nn.Sequential(
        *blocks, nn.Flatten(), nn.Linear(128 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 10))


def nin():
    # d2l's NiN for 1x224x224: 1,992,166 parameters, global average pooling for a head.
    def block(inputs, outputs, kernel, stride, padding):
        return nn.Sequential(
            nn.Conv2d(inputs, outputs, kernel, stride, padding), nn.ReLU(),
            nn.Conv2d(outputs, outputs, 1), nn.ReLU(), nn.Conv2d(outputs, outputs, 1), nn.ReLU())
    return nn.Sequential(
        block(1, 96, 11, 4, 0), nn.MaxPool2d(3, 2), block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2),
        block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2), nn.Dropout(0.5), block(384, 10, 3, 1, 1),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())


class Inception(nn.Module):
    # d2l's Inception block: four branches on the same input, concatenated on channels.
    def __init__(self, inputs, c1, c2, c3, c4):
        super().__init__()
        self.p1_1 = nn.Conv2d(inputs, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(inputs, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(inputs, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(inputs, c4, kernel_size=1)

    def forward(self, x):
        relu = torch.relu
        p1 = relu(self.p1_1(x))
        p2 = relu(self.p2_2(relu(self.p2_1(x))))
        p3 = relu(self.p3_2(relu(self.p3_1(x))))
        p4 = relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def googlenet():
    # d2l's GoogLeNet for 1x96x96: 5,977,530 parameters; its state_dict names are ours.
    pool = lambda: nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(), pool())
    b2 = nn.Sequential(nn.Conv2d(64, 64, kernel_size=1), nn.ReLU(),
                       nn.Conv2d(64, 192, kernel_size=3, padding=1), nn.ReLU(), pool())
    b3 = nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32),
                       Inception(256, 128, (128, 192), (32, 96), 64), pool())
    b4 = nn.Sequential(Inception(480, 192, (96, 208), (16, 48), 64),
                       Inception(512, 160, (112, 224), (24, 64), 64),
                       Inception(512, 128, (128, 256), (24, 64), 64),
                       Inception(512, 112, (144, 288), (32, 64), 64),
                       Inception(528, 256, (160, 320), (32, 128), 128), pool())
    b5 = nn.Sequential(Inception(832, 256, (160, 320), (32, 128), 128),
                       Inception(832, 384, (192, 384), (48, 128), 128),
                       nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
    return nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(1024, 10))


WORKLOADS = {
    "lenet": (lenet, 256, 28), "alexnet": (alexnet, 128, 224), "vgg": (vgg, 128, 224), "nin": (nin, 128, 224),
    "googlenet": (googlenet, 128, 96),
}


# Warm up for a second, at least one step, as ours does (ModelBenchmark.swift): the figures are
# meant to be an epoch's, not the first steps of a process (allocator, kernels chosen on first call).
WARM_UP_SECONDS = 1.0
# Then the fastest of `repeats` steps or of a second of steps, whichever is more (modelTimedSeconds).
TIMED_SECONDS = 1.0


def best_seconds(step, repeats):
    start = time.perf_counter()
    step()
    while time.perf_counter() - start < WARM_UP_SECONDS:
        step()
    best = float("inf")
    runs = 0
    start = time.perf_counter()
    while runs < repeats or time.perf_counter() - start < TIMED_SECONDS:
        step_start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - step_start)
        runs += 1
    return best


def peak_resident_bytes():
    # VmHWM, this program's own high-water mark, as ours reads it (ModelBenchmark.swift):
    # ru_maxrss also counts the address space of the bench process this one was forked from.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    warnings.filterwarnings("ignore")
    name, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    build, batch, size = WORKLOADS[name]
    model = build()
    images = torch.rand(batch, 1, size, size)
    labels = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def train_step():
        optimizer.zero_grad()
        loss_fn(model(images), labels).backward()
        optimizer.step()

    model.train()
    train = best_seconds(train_step, repeats)
    peak_train = peak_resident_bytes()
    model.eval()
    with torch.no_grad():
        infer = best_seconds(lambda: model(images), repeats)
    result = {"torch": torch.__version__, "train": batch / train, "infer": batch / infer,
              "peak_train_bytes": peak_train}
    try:
        import onnxruntime as ort
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, name + ".onnx")
            torch.onnx.export(model, (images,), path, input_names=["x"], output_names=["y"], dynamo=False)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            feed = {"x": images.numpy()}
            result["onnxruntime"] = batch / best_seconds(lambda: session.run(None, feed), repeats)
            result["onnxruntime_version"] = ort.__version__
    except Exception as error:  # onnxruntime is optional; say why it is missing
        result["onnxruntime_error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
