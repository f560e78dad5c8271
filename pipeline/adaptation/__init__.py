"""Auxiliary losses that plug into the one training loop (`training.fit(aux_losses=...)`), one module each:
each is an nn.Module whose forward(model) draws its own batch and returns its weighted loss term."""
