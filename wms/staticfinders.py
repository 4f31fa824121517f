"""Serve chosen files of npm packages as static files, and nothing else of ``node_modules``.

``settings.NPM_STATIC_FILES`` maps a static path (``vendor/html5-qrcode.min.js``) to a file under
``node_modules`` (``html5-qrcode/html5-qrcode.min.js``), which ``make setup`` installs with
``npm ci`` from the committed ``package-lock.json``. The library's code is never committed and
never loaded from a CDN; ``collectstatic`` copies only the files named here. A missing file is a
system check warning that says to run ``make setup``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core import checks
from django.core.files.storage import FileSystemStorage


def _node_modules() -> Path:
    return Path(getattr(settings, "NPM_ROOT", settings.BASE_DIR / "node_modules"))


class NpmFileFinder(BaseFinder):
    def _files(self) -> dict[str, Path]:
        root = _node_modules()
        return {
            static_path: root / source
            for static_path, source in getattr(settings, "NPM_STATIC_FILES", {}).items()
        }

    def check(self, **kwargs) -> list[checks.CheckMessage]:
        return [
            checks.Warning(
                f"{source} is missing: run `make setup` (npm ci) to install the browser libraries.",
                id="wms.W101",
            )
            for source in self._files().values()
            if not source.is_file()
        ]

    def find(self, path: str, find_all: bool = False, **kwargs):
        source = self._files().get(path)
        if source is None or not source.is_file():
            return []  # what Django's own finders answer for "not here", whatever find_all
        return [str(source)] if find_all else str(source)

    def list(self, ignore_patterns):
        for static_path, source in self._files().items():
            if not source.is_file():
                continue
            prefix, _sep, name = static_path.rpartition("/")
            storage = FileSystemStorage(location=str(source.parent))
            storage.prefix = prefix or None
            yield name, storage
