"""Installing and finding argos packages from files, without argostranslate.translate."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from service.errors import ModelError
from service.models import find_package, install_from, installed_packages

from .conftest import MODELS


def test_the_shared_zh_package_is_found_after_install(packages_dir: Path) -> None:
    pkg = find_package(packages_dir, "zh", "en")
    assert pkg is not None
    assert pkg.version == "1.9"
    assert (pkg.model_dir / "model.bin").is_file()


def test_installing_the_same_package_again_changes_nothing(packages_dir: Path) -> None:
    before = installed_packages(packages_dir)
    install_from(MODELS, packages_dir)
    assert installed_packages(packages_dir) == before


def test_no_korean_package_means_none_found(packages_dir: Path) -> None:
    assert find_package(packages_dir, "ko", "en") is None


def test_an_archive_escaping_the_packages_dir_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "evil.argosmodel"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../escaped/metadata.json", "{}")
    with pytest.raises(ModelError, match="outside the package"):
        install_from(bad, tmp_path / "packages")
    assert not (tmp_path / "escaped").exists()


def test_a_file_that_is_not_a_package_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.argosmodel"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a zip"):
        install_from(bogus, tmp_path / "packages")


def test_a_damaged_package_directory_is_skipped_when_listing(tmp_path: Path) -> None:
    (tmp_path / "broken-pkg").mkdir()
    (tmp_path / "broken-pkg" / "metadata.json").write_text('{"from_code": "zh", "to_code": "en"}')
    assert installed_packages(tmp_path) == []
