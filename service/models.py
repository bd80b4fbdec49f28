"""Argos translation packages: find, install and describe them without importing argostranslate.

``argostranslate.package.install_from_path`` imports ``argostranslate.translate`` and with it
stanza and torch, and it unzips straight into the live directory, so a worker starting at the
same moment can see half a package. We unzip into a temporary directory beside the target,
check the package, and rename it into place, which is atomic on one filesystem.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .errors import ModelError

if TYPE_CHECKING:
    import httpx

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


# ---- the Argos package index: `newsingest models download` ------------------------------
# An operator action only: nothing at run time ever calls these functions.

DEFAULT_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"
# The index lists links but no digests. These are the sha256 of packages whose published
# bytes we have checked ourselves (../shared/models/*.SOURCE.txt); a download of one of them
# must match, any other is checked by its structure (zip, metadata, model) and its digest is
# printed so that an operator can pin it with --sha256.
KNOWN_SHA256 = {
    ("zh", "en", "1.9"): "62e7af5a3a48b530e47b7b3e5c78c2de79073ecd815750d2bf3ab35b4a67da2d",
}
MAX_PACKAGE_BYTES = 2_000_000_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class IndexEntry:
    """One package of the Argos index."""

    from_code: str
    to_code: str
    version: str
    links: tuple[str, ...]
    code: str = ""
    sha256: str | None = None  # when an index provides one (the official one does not)

    @property
    def name(self) -> str:
        return f"{self.from_code}->{self.to_code} {self.version}"

    def expected_sha256(self) -> str | None:
        return self.sha256 or KNOWN_SHA256.get((self.from_code, self.to_code, self.version))


def parse_index(data: bytes | str) -> list[IndexEntry]:
    """The translate packages of an Argos index (a JSON list of package objects)."""
    try:
        items = json.loads(data)
    except ValueError as exc:
        raise ModelError(f"the package index is not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ModelError("the package index is not a JSON list of packages")
    entries: list[IndexEntry] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type", "translate") != "translate":
            continue
        links = tuple(
            str(u) for u in item.get("links") or () if str(u).startswith(("https://", "http://"))
        )
        from_code, to_code = str(item.get("from_code") or ""), str(item.get("to_code") or "")
        if not (from_code and to_code and links):
            continue
        digest = item.get("sha256") or item.get("checksum")
        entries.append(
            IndexEntry(from_code, to_code, str(item.get("package_version") or ""), links,
                       str(item.get("code") or ""), str(digest).lower() if digest else None)
        )  # fmt: skip
    return entries


def choose_package(entries: list[IndexEntry], from_code: str, to_code: str = "en") -> IndexEntry:
    """The newest package of the index for one direction."""
    matches = [e for e in entries if (e.from_code, e.to_code) == (from_code, to_code)]
    if not matches:
        known = sorted({e.from_code for e in entries if e.to_code == to_code})
        raise ModelError(
            f"the package index has no {from_code}->{to_code} package "
            f"(it has ->{to_code} from: {', '.join(known) or 'none'})"
        )
    return max(matches, key=lambda e: _version_key(e.version))


Progress = Callable[[int, int | None], None]  # bytes so far, total (None: unknown)


def download_package(
    entry: IndexEntry,
    packages_dir: Path,
    client: httpx.Client,
    *,
    sha256: str | None = None,
    progress: Progress | None = None,
) -> tuple[PackageInfo, str]:
    """Download, verify and install one package; returns it and the sha256 of its bytes.

    Verified before anything is installed: the size the server announced, the sha256 when
    one is known (``sha256``, the index's, or :data:`KNOWN_SHA256`), every zip member's CRC,
    and then, as for any install, metadata.json and the CTranslate2 model; the installed
    package must be the direction and version the index promised.
    """
    import httpx

    packages_dir.mkdir(parents=True, exist_ok=True)
    expected = (sha256 or entry.expected_sha256() or "").lower() or None
    errors: list[str] = []
    for url in entry.links:
        fd, name = tempfile.mkstemp(prefix=".download-", suffix=ARCHIVE_SUFFIX, dir=packages_dir)
        os.close(fd)
        part = Path(name)
        try:
            digest = _fetch(client, url, part, progress)
            if expected and digest != expected:
                raise ModelError(f"{url}: sha256 {digest}, expected {expected}")
            _check_zip(part, url)
            info = install_package(part, packages_dir)
            if (info.from_code, info.to_code, info.version) != (
                entry.from_code, entry.to_code, entry.version
            ):  # fmt: skip
                shutil.rmtree(info.path, ignore_errors=True)
                raise ModelError(f"{url} holds {info.from_code}->{info.to_code} "
                                 f"{info.version}, not {entry.name}")  # fmt: skip
            return info, digest
        except (ModelError, httpx.HTTPError, OSError) as exc:
            errors.append(str(exc) if isinstance(exc, ModelError) else f"{url}: {exc}")
        finally:
            part.unlink(missing_ok=True)
    raise ModelError(f"could not download {entry.name}: " + "; ".join(errors))


def _fetch(client: httpx.Client, url: str, target: Path, progress: Progress | None) -> str:
    hasher = hashlib.sha256()
    with client.stream("GET", url, follow_redirects=True) as response:
        response.raise_for_status()
        announced = response.headers.get("content-length")
        total = int(announced) if announced and announced.isdigit() else None
        if total is not None and total > MAX_PACKAGE_BYTES:
            raise ModelError(f"{url}: {total} bytes, more than {MAX_PACKAGE_BYTES}")
        done = 0
        with target.open("wb") as fh:
            for chunk in response.iter_bytes(_CHUNK):
                done += len(chunk)
                if done > MAX_PACKAGE_BYTES:
                    raise ModelError(f"{url}: more than {MAX_PACKAGE_BYTES} bytes")
                hasher.update(chunk)
                fh.write(chunk)
                if progress is not None:
                    progress(done, total)
    if total is not None and done != total:
        raise ModelError(f"{url}: got {done} bytes of the {total} announced")
    return hasher.hexdigest()


def _check_zip(path: Path, url: str) -> None:
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{url} is not an argos package (not a zip archive)")
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
    if bad is not None:
        raise ModelError(f"{url}: archive member {bad} is damaged (CRC mismatch)")


def missing_languages(
    languages: list[str], packages_dir: Path, models_dir: Path | None = None
) -> list[str]:
    """The languages among ``languages`` with no ->en package installed or waiting in
    ``models_dir`` (installed at start-up)."""
    have = {p.from_code for p in installed_packages(packages_dir) if p.to_code == "en"}
    if models_dir is not None and models_dir.is_dir():
        for archive in sorted(models_dir.glob(f"*{ARCHIVE_SUFFIX}")):
            try:
                with zipfile.ZipFile(archive) as zf:
                    meta_name = next(n for n in zf.namelist() if n.endswith("/metadata.json"))
                    meta = json.loads(zf.read(meta_name))
            except (OSError, ValueError, StopIteration, zipfile.BadZipFile):
                continue
            if meta.get("to_code") == "en":
                have.add(str(meta.get("from_code")))
    return [lang for lang in languages if lang not in have]
