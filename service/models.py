"""Argos translation packages: find, install and describe them without importing argostranslate.

``argostranslate.package.install_from_path`` imports ``argostranslate.translate`` and with it
stanza and torch, and it unzips straight into the live directory, so a worker starting at the
same moment can see half a package. We unzip into a temporary directory beside the target,
check the package, and rename it into place, which is atomic on one filesystem.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import ModelError

ARCHIVE_SUFFIX = ".argosmodel"


@dataclass(frozen=True)
class PackageInfo:
    """One installed argos package directory."""

    package_id: str
    from_code: str
    to_code: str
    version: str
    path: Path

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def sentencepiece_model(self) -> Path:
        return self.path / "sentencepiece.model"

    @property
    def target_prefix(self) -> str:
        meta = json.loads((self.path / "metadata.json").read_text(encoding="utf-8"))
        return str(meta.get("target_prefix", ""))

    def as_dict(self) -> dict[str, str]:
        return {
            "package_id": self.package_id,
            "from": self.from_code,
            "to": self.to_code,
            "version": self.version,
            "path": str(self.path),
        }


def read_package(path: Path) -> PackageInfo:
    """Describe the package in directory ``path``; raise ModelError if it is not usable."""
    meta_file = path / "metadata.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{path} is not an argos package: cannot read metadata.json ({exc})"
        ) from exc
    info = PackageInfo(
        package_id=path.name,
        from_code=str(meta.get("from_code", "")),
        to_code=str(meta.get("to_code", "")),
        version=str(meta.get("package_version", "")),
        path=path,
    )
    if not info.from_code or not info.to_code:
        raise ModelError(f"{meta_file} names no from_code/to_code")
    if not (info.model_dir / "model.bin").is_file():
        raise ModelError(
            f"{path} has no CTranslate2 model (model/model.bin); only CTranslate2 packages "
            "are supported"
        )
    if not info.sentencepiece_model.is_file():
        raise ModelError(f"{path} has no sentencepiece.model")
    return info


def installed_packages(packages_dir: Path) -> list[PackageInfo]:
    """Every usable package under ``packages_dir``, sorted by id; broken ones are skipped."""
    if not packages_dir.is_dir():
        return []
    found: list[PackageInfo] = []
    for child in sorted(packages_dir.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            try:
                found.append(read_package(child))
            except ModelError:
                continue
    return found


def find_package(packages_dir: Path, from_code: str, to_code: str = "en") -> PackageInfo | None:
    """The newest installed package for one direction, or None."""
    matches = [
        p
        for p in installed_packages(packages_dir)
        if (p.from_code, p.to_code) == (from_code, to_code)
    ]
    if not matches:
        return None
    return max(matches, key=lambda p: _version_key(p.version))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def _safe_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    for member in members:
        name = PurePosixPath(member.filename)
        if name.is_absolute() or ".." in name.parts:
            raise ModelError(f"refusing archive member outside the package: {member.filename}")
    return members


def install_package(archive_path: Path, packages_dir: Path) -> PackageInfo:
    """Install one ``.argosmodel`` file; installing the same version again is a no-op."""
    if not zipfile.is_zipfile(archive_path):
        raise ModelError(f"{archive_path} is not an argos package (not a zip archive)")
    packages_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive_path) as archive:
        members = _safe_members(archive)
        tops = {PurePosixPath(m.filename).parts[0] for m in members if m.filename.strip("/")}
        if len(tops) != 1:
            raise ModelError(f"{archive_path} must hold exactly one top-level package directory")
        top = tops.pop()
        target = packages_dir / top
        if target.is_dir():
            try:
                return read_package(target)
            except ModelError:
                shutil.rmtree(target)
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=packages_dir))
        try:
            archive.extractall(staging, members)
            info = read_package(staging / top)
            try:
                os.rename(staging / top, target)
            except OSError:
                # Another process installed it first; theirs is as good as ours.
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return PackageInfo(info.package_id, info.from_code, info.to_code, info.version, target)


def install_from(path: Path, packages_dir: Path) -> list[PackageInfo]:
    """Install a package file, or every ``*.argosmodel`` in a directory."""
    if path.is_dir():
        archives = sorted(path.glob(f"*{ARCHIVE_SUFFIX}"))
        if not archives:
            raise ModelError(f"no {ARCHIVE_SUFFIX} files in {path}")
        return [install_package(a, packages_dir) for a in archives]
    if path.is_file():
        return [install_package(path, packages_dir)]
    raise ModelError(f"{path} does not exist")
