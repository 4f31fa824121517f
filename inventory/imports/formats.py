"""django-import-export formats for the admin, running our file checks and writers.

``create_dataset`` saves the upload to a temporary file and opens it with ``files.open_sheet``
(type sniffing, zip-bomb and size caps, row limit, CSV encodings), so the admin refuses exactly
what our own screens refuse; the sheet row numbers travel with the dataset. ``export_data``
writes the resource's already-escaped rows with our writers, so numbers stay numbers (the
library's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` turns every cell into text).
Both formats are binary: the admin must not decode a GBK CSV as UTF-8 before we see it.
"""

from __future__ import annotations

import os
import tempfile

import tablib
from import_export.formats import base_formats

from inventory.imports import exports
from inventory.imports.files import open_sheet


class _SheetFormat:
    extension = ""

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        handle = tempfile.NamedTemporaryFile(suffix=f".{self.extension}", delete=False)  # noqa: SIM115
        try:
            with handle:
                handle.write(in_stream)
            with open_sheet(handle.name, f"upload.{self.extension}") as sheet:
                dataset = tablib.Dataset(headers=sheet.headers)
                width = len(sheet.headers)
                numbers = []
                for number, cells in sheet.rows():
                    row = list(cells[:width]) + [""] * (width - len(cells))
                    dataset.append(row)
                    numbers.append(number)
                dataset.wms_row_numbers = numbers
                dataset.wms_header_row = sheet.header_row
            return dataset
        finally:
            os.unlink(handle.name)

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def can_import(self) -> bool:
        return True

    def can_export(self) -> bool:
        return True

    def get_extension(self) -> str:
        return self.extension

    def _export(self, dataset) -> bytes:
        handle = tempfile.NamedTemporaryFile(suffix=f".{self.extension}", delete=False)  # noqa: SIM115
        handle.close()
        try:
            if self.extension == exports.XLSX:
                exports.write_xlsx(handle.name, list(dataset.headers or []), dataset, "Export")
            else:
                exports.write_csv(handle.name, list(dataset.headers or []), dataset)
            with open(handle.name, "rb") as written:
                return written.read()
        finally:
            os.unlink(handle.name)


class WmsXLSX(_SheetFormat, base_formats.XLSX):
    extension = "xlsx"

    def export_data(self, dataset, **kwargs) -> bytes:
        return self._export(dataset)


class WmsCSV(_SheetFormat, base_formats.CSV):
    extension = "csv"

    def get_title(self) -> str:
        return "csv"

    def export_data(self, dataset, **kwargs) -> bytes:
        return self._export(dataset)


FORMATS = [WmsXLSX, WmsCSV]
