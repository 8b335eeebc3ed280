"""Portable model folders: a trained network that leaves densepred's training code behind.

- :mod:`~densepred.portable.spec`: what ``config.json`` holds (format version 1), read with
  errors that name the file.
- :mod:`~densepred.portable.processing`: pictures -> network inputs -> answers (numpy, OpenCV,
  torch only).
- :mod:`~densepred.portable.model`: :class:`~densepred.portable.model.PortableModel` (a plain
  ``torch.nn.Module`` with huggingface_hub's ``PyTorchModelHubMixin``) and
  :func:`~densepred.portable.model.from_pretrained`.
- :mod:`~densepred.portable.smp_native`: saving networks with an smp decoder as smp model folders.
- :mod:`~densepred.portable.card`: the ``README.md`` model card.

Nothing here imports Lightning. ``densepred.from_pretrained`` and ``densepred.save_pretrained``
are the entry points; saving from a checkpoint lives in :mod:`densepred.app.pretrained`.
"""
