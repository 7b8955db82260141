"""Benchmark: this project's pipeline against the TFX taxi template."""
