"""Load the solution provider's records: its customers' lines, and its price book."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.bulk.reading import FileProblem
from directory import records


class Command(BaseCommand):
    help = (
        "Import the solution provider's lines (account_id, account_name, city, state, zip_code, "
        "ctn) and/or price book (name, sku) from CSV files. Bad rows are reported by line; the "
        "good rows are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=Path, help="a lines CSV file")
        parser.add_argument("--products", type=Path, help="a price book CSV file")

    def handle(self, *args, lines: Path | None, products: Path | None, **options):
        if lines is None and products is None:
            raise CommandError("Name a file: --lines FILE, --products FILE, or both.")
        refused = 0
        for path, importer, what in (
            (lines, records.import_lines, "lines"),
            (products, records.import_products, "products"),
        ):
            if path is not None:
                refused += self._load(path, importer, what)
        if refused:
            raise CommandError(f"{refused} row{'s' if refused != 1 else ''} refused (above).")

    def _load(self, path: Path, importer, what: str) -> int:
        try:
            report = importer(path)
        except (FileProblem, OSError) as error:
            raise CommandError(f"{path}: {error}") from None
        accounts = f" for {report.accounts} accounts" if report.accounts else ""
        self.stdout.write(f"{path}: {report.kept} {what} kept{accounts}.")
        for problem in report.problems:
            self.stderr.write(f"{path}, {problem}")
        return len(report.problems)
