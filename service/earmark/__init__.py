"""Earmark: a rules-engine service that labels audio gear, scores it for each use case and
explains why, from rule files that durable_rules evaluates."""

__version__ = "0.1.0"
