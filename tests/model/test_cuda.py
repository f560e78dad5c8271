"""The GPU path: CUDA with bf16 autocast, what `runtime.device: cuda` (or `auto` on a GPU worker) trains
with. Skipped where no CUDA device is visible, as in CI; on a GPU machine run `pytest -m gpu`."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import yaml

from pipeline import baselines
from pipeline.data import recipes
from pipeline.finetuning import TransferData, finetune
from pipeline.models import build_model
from pipeline.onnx_export import export_onnx, parity, session
from pipeline.training import Split, predict_logits
from tests.workspace import REPO, tiny_params

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible")]
CUDA, CPU = torch.device("cuda"), torch.device("cpu")
PIXEL_MAX = float(recipes.OPTDIGITS_MAX)


@pytest.fixture(scope="module")
def digits() -> Split:
    domain = recipes.sklearn_digits()
    return Split.from_arrays(domain.images, domain.labels)


def part(split: Split, start: int, stop: int) -> Split:
    return Split(split.images[start:stop], split.labels[start:stop])


@pytest.fixture(scope="module")
def finetuned_on_cuda(digits):
    """The default fine-tuning recipe (self-training, information max, moving average, augmentation) on CUDA:
    every auxiliary loss and the moving-average update run on the device."""
    params = tiny_params(finetune={"epochs": 20, "head_epochs": 5})
    torch.manual_seed(0)
    model = build_model(params["model"], recipes.DIGITS_SHAPE, 10, PIXEL_MAX)
    data = TransferData(source_train=part(digits, 0, 300), target_train=part(digits, 300, 400), target_val=part(digits, 400, 450),
                        target_unlabelled=digits.images[450:900])
    result = finetune(model, params["finetune"], data, CUDA, seed=0)
    return model, result, part(digits, 900, len(digits.labels))


def test_default_recipe_trains_in_float32_weights_under_bf16(finetuned_on_cuda):
    model, result, _ = finetuned_on_cuda
    losses = [record["train_loss"] for record in result.history]
    assert all(torch.isfinite(torch.tensor(losses))), losses
    assert losses[-1] < 0.5 * losses[0], losses
    assert {p.dtype for p in model.parameters()} == {torch.float32} and {p.device.type for p in model.parameters()} == {"cuda"}


def test_bf16_predictions_agree_with_float32_on_cpu(finetuned_on_cuda):
    model, _, test = finetuned_on_cuda
    on_cpu = predict_logits(model, test.images, CPU).argmax(1)
    on_gpu = predict_logits(model, test.images, CUDA).argmax(1)  # moves the model back: later tests read it on CUDA
    assert (on_gpu == test.labels).float().mean() > 0.6
    assert (on_gpu == on_cpu).float().mean() >= 0.97


def test_a_cuda_trained_model_exports_and_matches_onnxruntime(finetuned_on_cuda, tmp_path):
    model, _, test = finetuned_on_cuda
    cpu_model = build_model(tiny_params()["model"], recipes.DIGITS_SHAPE, 10, PIXEL_MAX)
    cpu_model.load_state_dict({k: v.cpu() for k, v in model.state_dict().items()})
    export_onnx(cpu_model, test.images[:4], tmp_path / "model.onnx", opset=18)
    result = parity(cpu_model, session(tmp_path / "model.onnx"), test.images[:64], atol=1e-5, rtol=1e-4)
    assert result["ok"] and result["same_argmax"], result


@pytest.mark.parametrize("stem", ["fcn", "strided"])
def test_padded_series_stay_finite_and_match_cpu_under_bf16(stem):
    """Padding arrives as NaN and becomes an attention mask: under bf16 a masked softmax must not turn into
    NaN, and the logits must stay close to float32 on the CPU."""
    params = tiny_params(model={"series_stem": stem, "max_tokens": 8})
    torch.manual_seed(0)
    model = build_model(params["model"], [2, 64], 3, 1.0).eval()
    series = torch.randn(8, 2, 64)
    series[:4, :, 40:] = float("nan")
    on_cpu = predict_logits(model, series, CPU)
    on_gpu = predict_logits(model, series, CUDA)
    assert torch.isfinite(on_gpu).all()
    torch.testing.assert_close(on_gpu, on_cpu, atol=0.1, rtol=0.05)


def test_a_checkpoint_loaded_on_the_cpu_scores_on_cuda(digits):
    """What the evaluate stage does: checkpoints load on the CPU, and the test split and linear probe run on the GPU."""
    torch.manual_seed(0)
    model = build_model(tiny_params()["model"], recipes.DIGITS_SHAPE, 10, PIXEL_MAX)
    train, test = part(digits, 0, 200), part(digits, 900, 1100)
    predicted, probabilities = baselines.torch_model(model, test, CUDA)
    assert predicted.shape == (200,) and probabilities.shape == (200, 10)
    probe_on_gpu = baselines.linear_probe(model, train, test)[0]
    probe_on_cpu = baselines.linear_probe(model.cpu(), train, test)[0]
    assert (probe_on_gpu == probe_on_cpu).mean() >= 0.97


@pytest.mark.slow
def test_quick_benchmark_runs_every_baseline_on_cuda(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["runtime"]["device"] = "cuda"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    methods = ["source-only", "scratch", "linear probe", "default (params.yaml)", "uda: default (params.yaml)"]
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "transfer.py"), "--quick", "--no-mlflow", "--params", str(tmp_path / "params.yaml"),
                             "--out", str(tmp_path), "--methods", *methods], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r["method"] for r in json.loads((tmp_path / "transfer.json").read_text())} == set(methods)
