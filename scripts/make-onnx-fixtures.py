#!/usr/bin/python3
"""Writes the ONNX import fixtures under tests/io/fixtures/.

Small models exported by PyTorch (torch.onnx.export, opset 17, dynamic batch) with fixed
seeds, each with an input batch and PyTorch's output as .npy files:

  mlp          Linear -> ReLU -> Linear -> Tanh -> Linear
  cnn          Conv -> ReLU -> MaxPool -> BatchNorm -> Conv -> ReLU -> AvgPool -> Conv ->
               GlobalAveragePool -> view(N, -1) -> Linear
  transformer  a pre-norm encoder block: LayerNorm, 2-head self-attention written with
               matmul/softmax, GELU MLP, residuals, mean over the sequence, Linear head
  opset18      an MLP whose ReduceMean takes its axes as an input (opset 18), written with
               onnx.helper; its output computed with numpy

Run with Debian's python3 (torch 1.13): /usr/bin/python3 scripts/make-onnx-fixtures.py
"""
import math
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "io", "fixtures")


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 24)
        self.fc3 = nn.Linear(24, 10)

    def forward(self, x):
        return self.fc3(torch.tanh(self.fc2(F.relu(self.fc1(x)))))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.conv3 = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        # Batch normalization after the pooling: PyTorch would fold it into a preceding Conv.
        x = self.bn1(F.max_pool2d(F.relu(self.conv1(x)), 2))
        x = F.avg_pool2d(F.relu(self.conv2(x)), 2)
        x = F.adaptive_avg_pool2d(torch.sigmoid(self.conv3(x)), 1)
        return self.fc(x.view(x.size(0), -1))


class Block(nn.Module):
    def __init__(self, d=16, heads=2, t=8):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.up, self.down = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.head = nn.Linear(d, 10)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.dh).transpose(1, 2)

    def forward(self, x):
        b, t, d = x.shape
        h = self.ln1(x)
        q, k, v = self.split(self.q(h)), self.split(self.k(h)), self.split(self.v(h))
        p = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.dh), dim=-1)
        a = (p @ v).transpose(1, 2).contiguous().view(b, t, d)
        x = x + self.o(a)
        x = x + self.down(F.gelu(self.up(self.ln2(x))))
        return self.head(x.mean(dim=1))


def export(name, model, x):
    model.eval()
    # Non-trivial running statistics, so that batch normalization is really tested.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=17, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy())
    np.save(os.path.join(OUT, name + ".output.npy"), y.numpy())


def opset18():
    rng = np.random.default_rng(18)
    w = rng.standard_normal((16, 12)).astype(np.float32) * 0.3
    bias = rng.standard_normal(12).astype(np.float32) * 0.1
    nodes = [
        helper.make_node("MatMul", ["input", "w"], ["h"], name="fc"),
        helper.make_node("Add", ["h", "b"], ["hb"], name="bias"),
        helper.make_node("Relu", ["hb"], ["r"], name="relu"),
        helper.make_node("Reshape", ["r", "shape"], ["r3"], name="split"),
        helper.make_node("ReduceMean", ["r3", "axes"], ["output"], name="mean", keepdims=0),
    ]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b"),
             numpy_helper.from_array(np.array([-1, 3, 4], np.int64), "shape"),
             numpy_helper.from_array(np.array([2], np.int64), "axes")]
    graph = helper.make_graph(
        nodes, "opset18",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)],
                              producer_name="make-onnx-fixtures")
    model.ir_version = 8
    onnx.save(model, os.path.join(OUT, "opset18.onnx"))
    x = rng.standard_normal((4, 16)).astype(np.float32)
    y = np.maximum(x @ w + bias, 0).reshape(4, 3, 4).mean(axis=2)
    np.save(os.path.join(OUT, "opset18.input.npy"), x)
    np.save(os.path.join(OUT, "opset18.output.npy"), y.astype(np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    export("mlp", Mlp(), torch.randn(4, 16))
    torch.manual_seed(1)
    export("cnn", Cnn(), torch.randn(4, 3, 16, 16))
    torch.manual_seed(2)
    export("transformer", Block(), torch.randn(4, 8, 16))
    opset18()


if __name__ == "__main__":
    main()
