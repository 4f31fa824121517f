"""The two ways an import says no: the whole file is refused, or some rows are invalid."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from wms.errors import DomainError


class ImportRefused(DomainError):
    """The file as a whole is refused (wrong type, damaged, too big, missing columns, ...).

    ``str(error)`` is a plain, translated message for the user; nothing has been written.
    """

    code = "import_refused"


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row: the sheet row number as the spreadsheet app shows it, the column
    header as written in the file ("" when the problem is the row as a whole), a plain message."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        if self.column:
            return _("row %(row)s, %(column)s: %(message)s") % self.as_dict()
        return _("row %(row)s: %(message)s") % self.as_dict()
