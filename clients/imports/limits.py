"""The import's limits (settings may override them) and the error that refuses a whole file."""

from django.conf import settings
from django.utils.translation import gettext as _

from crm.formats import format_number

# Limits; settings may override them (tests do).
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_CELLS = 4_000_000  # 200 000 rows of 20 columns
MAX_UNPACKED_BYTES = 150 * 1024 * 1024  # an XLSX's parts once unzipped
MAX_COLUMNS = 100  # a template has at most 17; more is a broken or hostile file


def max_bytes() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_BYTES", MAX_BYTES)


def max_rows() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_ROWS", MAX_ROWS)


def max_cells() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_CELLS", MAX_CELLS)


def max_unpacked_bytes() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES)


class ImportFileError(Exception):
    """The whole file is refused; the message says why, for the person who uploaded it."""


# A file is read in the task line by line, and refused the moment it passes a limit.
HEAD = 64 * 1024  # what the web request reads of a CSV
PROGRESS_LINES = 10_000  # a sign of life every this many lines
EXCEL_MAX_ROWS = 1_048_576


class Budget:
    """Counts rows and cells while a file is read; refuses it the moment it passes a limit."""

    def __init__(self, on_progress=None):
        self.rows = 0
        self.lines = 0
        self.cells = 0
        self.max_rows = max_rows()
        self.max_cells = max_cells()
        self.on_progress = on_progress

    def take(self, cells: list) -> None:
        self.lines += 1
        if self.on_progress is not None and self.lines % PROGRESS_LINES == 0:
            self.on_progress()  # a sign of life while a large file is read
        self.cells += len(cells)
        if self.cells > self.max_cells:
            raise ImportFileError(
                _("The file has more than %(limit)s cells; split it into smaller files.")
                % {"limit": format_number(self.max_cells)}
            )
        if any(cells):
            self.rows += 1
            if self.rows > self.max_rows + 1:  # the header is not a data row
                raise too_many_rows(self.max_rows)


def too_many_rows(limit: int) -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(limit)s rows; split it into smaller files.")
        % {"limit": format_number(limit)}
    )
