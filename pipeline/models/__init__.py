"""Backbone, pooling heads and the model that joins them."""
from pipeline.models.network import TransferModel, build_model

__all__ = ["TransferModel", "build_model"]
