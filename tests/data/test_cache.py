"""The cache's manifest rules: the stored training size, the spec of the config values a cache
depends on, refusing an incomplete or mismatched cache, and naming the extra without LitData."""

from __future__ import annotations

import importlib.util

import pytest

from densepred.app.config import config_from_dict
from densepred.core.errors import ConfigError, DataError
from densepred.data.cache import (
    INSTALL_HINT,
    MANIFEST,
    VERSION,
    cache_spec,
    check_manifest,
    stream_module,
    train_size,
)


def _data(task: str = "depth", **data: object):
    return config_from_dict({"task": {"name": task}, "data": data, "model": {}}).data


@pytest.mark.parametrize(
    ("augment", "expected"),
    [
        ({}, [128, 160]),  # crop_scale [1, 1]: the training size itself
        ({"crop_scale": [0.7, 1.0]}, [153, 192]),  # ceil(128 / sqrt(0.7)), ceil(160 / sqrt(0.7))
        ({"crop_scale": [0.7, 1.0], "enabled": False}, [128, 160]),
        ({"crop_scale": [0.25, 1.0]}, [256, 320]),
    ],
)
def test_training_items_are_stored_where_the_smallest_crop_is_not_enlarged(
    augment: dict, expected: list[int]
) -> None:
    assert train_size(_data(image_size=[128, 160], augment=augment)) == expected


def test_native_size_training_stores_native_items() -> None:
    assert train_size(_data(image_size=None)) is None


@pytest.mark.parametrize(
    ("task", "keys"),
    [
        ("depth", {"data.depth_scale", "data.image_size", "data.root", "data.train_split"}),
        ("segmentation", {"data.classes", "data.void_value", "data.ignore_index"}),
    ],
)
def test_the_spec_holds_the_keys_the_items_depend_on(task: str, keys: set[str]) -> None:
    spec = cache_spec(_data(task))
    assert keys <= spec.keys()
    # loader and augmentation settings applied when items are made are not part of it
    assert not {"data.batch_size", "data.num_workers", "data.normalize", "data.cache"} & spec.keys()


def _manifest(data) -> dict:
    return {"version": VERSION, "spec": cache_spec(data), "splits": {}, "extras": {}}


def test_a_manifest_of_the_same_settings_is_accepted() -> None:
    data = _data(image_size=[32, 48])
    manifest = _manifest(data)
    assert check_manifest(manifest, data, "cache") is manifest


def test_a_folder_without_manifest_is_an_incomplete_cache() -> None:
    with pytest.raises(DataError, match=f"holds no complete cache: {MANIFEST} is missing"):
        check_manifest(None, _data(), "/caches/mai")


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("image_size", [96, 128], "data.image_size"),
        ("depth_scale", 256.0, "data.depth_scale"),
        ("root", "/other/data", "data.root"),
        ("format", "mai", "data.format"),
        ("train_split", "sync", "data.train_split"),
        ("augment", {"crop_scale": [0.5, 1.0]}, "data.augment.crop_scale"),
    ],
)
def test_a_cache_of_other_settings_is_refused_naming_the_key(
    key: str, value: object, named: str
) -> None:
    manifest = _manifest(_data(image_size=[128, 160]))
    other = _data(**{"image_size": [128, 160], key: value})
    with pytest.raises(DataError, match="prepared for other data settings") as info:
        check_manifest(manifest, other, "/caches/mai")
    assert named in str(info.value)


def test_a_cache_of_another_layout_version_is_refused() -> None:
    data = _data()
    with pytest.raises(DataError, match="layout version 0"):
        check_manifest({**_manifest(data), "version": 0}, data, "cache")


def test_without_litdata_a_cache_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "litdata" else real(name, *a)
    )
    with pytest.raises(ConfigError, match=f"stream extra: {INSTALL_HINT.replace('[', '.')}"):
        stream_module()


def test_the_cache_and_unlabeled_images_do_not_mix() -> None:
    with pytest.raises(ConfigError, match="data.unlabeled_root"):
        _data(cache="cache", unlabeled_root="photos")
