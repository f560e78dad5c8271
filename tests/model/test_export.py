"""ONNX export keeps a dynamic batch axis and matches PyTorch in onnxruntime at batch 1 and 64."""
import onnx
import pytest
import torch

from pipeline.models import build_model
from pipeline.onnx_export import export_onnx, parity, session
from tests.workspace import REPO, tiny_params


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    net = build_model(tiny_params()["model"], [1, 8, 8], 10, 16.0).eval()
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(net, torch.rand(2, 1, 8, 8) * 16, path, opset=18)
    return net, path


def test_batch_axis_is_dynamic(exported):
    _, path = exported
    dims = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [1, 8, 8]


@pytest.mark.parametrize("batch", [1, 64])
def test_parity_with_pytorch(exported, batch):
    net, path = exported
    result = parity(net, session(path), torch.rand(batch, 1, 8, 8) * 16, atol=1e-5, rtol=1e-4)
    assert result["ok"] and result["same_argmax"], result


def test_parity_detects_a_different_model(exported):
    net, path = exported
    other = build_model(tiny_params()["model"], [1, 8, 8], 10, 16.0).eval()
    assert not parity(other, session(path), torch.rand(4, 1, 8, 8) * 16, atol=1e-5, rtol=1e-4)["ok"]
    assert net is not other


def test_the_model_carries_no_paths_of_the_machine_that_built_it(exported):
    """The exporter records every node's stack trace, with this checkout's and venv's absolute paths."""
    _, path = exported
    assert str(REPO).encode() not in path.read_bytes()
    assert all(prop.key != "pkg.torch.onnx.stack_trace" for node in onnx.load(path).graph.node for prop in node.metadata_props)
