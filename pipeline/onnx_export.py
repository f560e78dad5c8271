"""ONNX export with a dynamic batch axis, parity against PyTorch and latency of both."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from pipeline.data.tables import write_atomic

INPUT_NAME, OUTPUT_NAME = "images", "logits"
# Node metadata the exporter fills with the Python stack trace, absolute paths of this checkout and its venv included.
STACK_TRACE_KEY = "pkg.torch.onnx.stack_trace"
# The exporter warns about every torchvision op it cannot register; this model uses none of them.
logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)


def export_onnx(model: torch.nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    """Export with a batch of >= 2: a batch-1 example can silently fix the batch dimension."""
    assert len(example) >= 2, "export with a batch of at least 2"
    model.eval()

    def write(tmp: Path) -> None:
        torch.onnx.export(model, (example,), tmp, dynamo=True, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_shapes=({0: torch.export.Dim("batch")},), opset_version=opset, external_data=False, verbose=False)
        exported = without_stack_traces(onnx.load(tmp))
        onnx.checker.check_model(exported, full_check=True)
        onnx.save(exported, tmp)

    write_atomic(path, write)


def without_stack_traces(exported: onnx.ModelProto) -> onnx.ModelProto:
    """The model without the exporter's per-node stack traces: a registered model should not carry the
    paths of the machine that built it, and its bytes should not depend on where the checkout lies."""
    for node in [*exported.graph.node, *(n for function in exported.functions for n in function.node)]:
        kept = [prop for prop in node.metadata_props if prop.key != STACK_TRACE_KEY]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
    return exported


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def parity(model: torch.nn.Module, sess: ort.InferenceSession, images: torch.Tensor, atol: float, rtol: float) -> dict:
    """Largest absolute difference of the logits and whether every element is within atol + rtol * |torch|."""
    with torch.no_grad():
        expected = model(images).numpy()
    actual = sess.run([OUTPUT_NAME], {INPUT_NAME: images.numpy()})[0]
    return {"max_abs_diff": float(np.abs(actual - expected).max()), "ok": bool(np.allclose(actual, expected, atol=atol, rtol=rtol)),
            "same_argmax": bool((actual.argmax(1) == expected.argmax(1)).all())}


def median_ms(run, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def latency(model: torch.nn.Module, sess: ort.InferenceSession, images: torch.Tensor, repeats: int) -> dict:
    array = images.numpy()
    with torch.no_grad():
        torch_ms = median_ms(lambda: model(images), repeats)
    return {"torch_ms": torch_ms, "onnxruntime_ms": median_ms(lambda: sess.run([OUTPUT_NAME], {INPUT_NAME: array}), repeats)}
