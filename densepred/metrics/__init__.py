"""Metrics: depth metrics as pure per-image functions and a torchmetrics ``Metric``.

Segmentation and classification metrics come from torchmetrics directly.
"""
