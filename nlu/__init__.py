"""Rasa's training data and domain (YAML), and the pipeline's own component (entity_cleaner)."""
