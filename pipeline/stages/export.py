"""Stage 5: export the fine-tuned model to ONNX; a parity failure against PyTorch fails the stage."""
from __future__ import annotations

import sys
from pathlib import Path

from pipeline import checkpoints, registry, runtime, tracking
from pipeline.data.prepared import load_prepared
from pipeline.data.tables import read_json
from pipeline.onnx_export import export_onnx, latency, parity, session
from pipeline.params import load_params

ONNX_PATH = Path("models/model.onnx")
EVALUATION = Path("metrics/evaluate.json")
PARITY_BATCHES = (1, 64)


def main() -> None:
    params = load_params()
    cfg = params["export"]
    with tracking.stage_run("export"):
        runtime.configure(params["runtime"], params["seed"])
        data = load_prepared()
        test = data.split("target", "test").images
        test_ids = data.target.loc[data.target["split"] == "test", "sample_id"]
        model = checkpoints.load_model(checkpoints.FINETUNED, params["model"], data.meta)
        export_onnx(model, test[:2], ONNX_PATH, cfg["opset"])
        sess = session(ONNX_PATH)
        metrics = {"onnx_bytes": ONNX_PATH.stat().st_size, "opset": cfg["opset"]}
        for batch in PARITY_BATCHES:
            images = test[:batch]
            metrics[f"batch_{batch}"] = {**parity(model, sess, images, cfg["atol"], cfg["rtol"]), **latency(model, sess, images, cfg["latency_repeats"])}
        tracking.record_metrics("export", metrics)
        failed = [b for b in PARITY_BATCHES if not metrics[f"batch_{b}"]["ok"]]
        if failed:
            ONNX_PATH.unlink()
            sys.exit(f"ONNX parity failed at batch {failed}: max |onnxruntime - torch| = "
                     f"{[metrics[f'batch_{b}']['max_abs_diff'] for b in failed]} exceeds atol={cfg['atol']}, rtol={cfg['rtol']} "
                     f"(params.yaml export.atol/rtol); {ONNX_PATH} removed")
        registry.register_active_run_model(ONNX_PATH, test[:2].numpy(), len(data.classes), params["registry"]["model_name"],
                                           read_json(EVALUATION), registry.test_set_fingerprint(test_ids))


if __name__ == "__main__":
    main()
