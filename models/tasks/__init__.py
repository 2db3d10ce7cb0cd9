"""Toy tasks: vocabularies, data generators and image conversion for the presets."""
