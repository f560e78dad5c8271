"""The model every stage trains: scale pixels -> backbone tokens -> pooling head -> linear classifier."""
from __future__ import annotations

import torch
from torch import nn

from pipeline.models.backbone import Backbone
from pipeline.models.heads import build_head
from pipeline.models.series_backbone import SeriesBackbone


class TransferModel(nn.Module):
    def __init__(self, backbone: Backbone | SeriesBackbone, head: nn.Module, n_classes: int, dim: int, pixel_max: float):
        super().__init__()
        # Scaling lives in the model so the ONNX file and the served model take raw pixel values.
        self.register_buffer("input_scale", torch.tensor(1.0 / pixel_max))
        self.backbone = backbone
        self.head = head
        self.classifier = nn.Linear(dim, n_classes)

    def features_and_attention(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        inputs = images * self.input_scale
        return self.head(self.backbone(inputs), mask=self.backbone.token_mask(inputs))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.features_and_attention(images)[0]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images))


def build_model(model_params: dict, input_shape: list[int], n_classes: int, pixel_max: float, head: str | None = None) -> TransferModel:
    """`input_shape` is (channels, height, width) for images or (channels, length) for series, as recorded
    by the prepare stage in meta.json; `head` overrides `model_params["head"]` (fine-tuning may swap in a different head)."""
    dim, heads = model_params["dim"], model_params["heads"]
    if len(input_shape) == 2:
        channels, length = input_shape
        backbone = SeriesBackbone(channels, length, dim, model_params["depth"], heads, model_params["max_tokens"],
                                  model_params["series_stem"])
    else:
        channels, height, width = input_shape
        backbone = Backbone(channels, (height, width), dim, model_params["depth"], heads, model_params["max_grid"])
    n_tokens = backbone.grid[0] * backbone.grid[1]
    pooling = build_head(head or model_params["head"], dim, heads, n_tokens, model_params["queries"], model_params["head_pos_embed"])
    return TransferModel(backbone, pooling, n_classes, dim, pixel_max)
