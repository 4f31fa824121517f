"""Downloadable import templates: headers in the user's language, an example row, a notes sheet.

The example row is recognised on import and skipped (a user who forgets to delete it is not
punished for it); code columns (SKU, barcode...) are formatted as Text so Excel keeps leading
zeros when people type them.
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from inventory.imports.engine import SheetResource
from inventory.imports.widgets import CodeWidget

_HEADER_FILL = PatternFill("solid", fgColor="DDE7F6")
_EXAMPLE_FONT = Font(italic=True, color="6B7280")
_TEXT_ROWS = 2000  # rows pre-formatted as Text in code columns


def build_template(resource: SheetResource) -> bytes:
    """The template workbook of ``resource`` as xlsx bytes, in the active language."""
    fields = resource.import_field_map()
    keys = list(fields)
    workbook = Workbook()
    data = workbook.active
    data.title = _("Data")[:31]
    for index, key in enumerate(keys, start=1):
        label = str(resource.column_label(key))
        cell = data.cell(row=1, column=index, value=label)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        example = resource.example_row.get(key, "")
        example_cell = data.cell(row=2, column=index, value=example if example != "" else None)
        example_cell.font = _EXAMPLE_FONT
        letter = get_column_letter(index)
        data.column_dimensions[letter].width = max(14, min(40, len(label) + 4))
        if isinstance(fields[key].widget, CodeWidget):
            example_cell.number_format = "@"
            if example_cell.value is not None:
                example_cell.value = str(example_cell.value)
            for row in range(3, _TEXT_ROWS + 1):
                data.cell(row=row, column=index).number_format = "@"
        elif hasattr(example, "isoformat"):
            example_cell.number_format = "yyyy-mm-dd"
    data.freeze_panes = "A2"

    notes = workbook.create_sheet(_("Notes")[:31])
    notes.append([_("Column"), _("Required"), _("What to write"), _("Example")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    for key in keys:
        required = key in resource.required_columns or key in resource.required_values
        example = resource.example_row.get(key, "")
        notes.append(
            [
                str(resource.column_label(key)),
                _("yes") if required else _("no"),
                str(resource.column_notes.get(key, "")),
                example.isoformat() if hasattr(example, "isoformat") else example,
            ]
        )
    notes.append([])
    for line in (
        _(
            "Row 2 of the data sheet is an example: replace it or delete it (if left as it is, it "
            "is skipped)."
        ),
        _(
            "The first row must keep the column headers; columns may be in any order and unknown "
            "columns are ignored."
        ),
        _("Dates: an Excel date or text as YYYY-MM-DD. Numbers may be typed as text."),
        _(
            "Nothing is written until the whole file is valid: fix every reported row, then upload "
            "the file again."
        ),
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 80
    notes.column_dimensions["D"].width = 22
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
