"""headstart: pretrain on a source domain, fine-tune an attention head on a few target labels."""
