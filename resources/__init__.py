"""Transformer Explorer's shipped files, installed as the package
`transformer_explorer_resources` (see pyproject.toml); found through models/resources.py."""
