"""Pure PyTorch models that record their insides. Never imports Qt or `explorer`."""
