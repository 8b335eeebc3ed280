"""Losses: depth losses (``DEPTH_LOSSES`` registry, ``DepthLoss``) and GAN losses.

Segmentation losses come from segmentation-models-pytorch.
"""
