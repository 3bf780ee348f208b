"""Replace the identifier column of a registry extract by the keyed-hash linkage key."""

import csv
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from study import linkage
from study.imports.screening import identifier_header


class Command(BaseCommand):
    help = (
        "Stream a CSV registry extract and replace its identifier column (BSN, or postcode + "
        "house number) by the linkage key (HMAC-SHA256 with LINKAGE_KEY). The identifier is "
        "never written or logged. Refuses the whole file on the first invalid identifier."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True)
        parser.add_argument("--output", required=True)
        parser.add_argument("--id-column", default="bsn", help="BSN column (default: bsn)")
        parser.add_argument(
            "--postcode-column", help="use postcode + house number instead of a BSN"
        )
        parser.add_argument("--house-number-column")
        parser.add_argument("--key-column", default="linkage_key", help="name of the new column")
        parser.add_argument("--delimiter", default=None, help="default: detect ',' or ';'")

    def handle(self, *args, **o):
        if not settings.LINKAGE_KEY:
            raise CommandError("LINKAGE_KEY is not set.")
        if o["postcode_column"] and not o["house_number_column"]:
            raise CommandError("--postcode-column needs --house-number-column.")
        try:
            src = open(o["input"], newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {o['input']}: {exc.strerror}") from None
        with src:
            delimiter = o["delimiter"] or _sniff(src)
            reader = csv.DictReader(src, delimiter=delimiter)
            id_cols = (
                [o["postcode_column"], o["house_number_column"]]
                if o["postcode_column"]
                else [o["id_column"]]
            )
            fields = reader.fieldnames or []
            missing = [c for c in id_cols if c not in fields]
            if missing:
                raise CommandError(
                    f"Column(s) {', '.join(missing)} not found in {o['input']}; columns are: {', '.join(fields)}"
                )
            # Other direct identifiers (naam, geboortedatum, a second BSN, ...) are dropped, with
            # a warning: the output carries the linkage key and the registry's values only.
            dropped = [f for f in fields if f not in id_cols and identifier_header(f)]
            for name in dropped:
                self.stderr.write(
                    f"warning: column '{name}' holds direct identifiers and was left out"
                )
            id_cols = [*id_cols, *dropped]
            out_fields = [o["key_column"]] + [f for f in fields if f not in id_cols]
            tmp_path = o["output"] + ".part"
            count = self._stream(reader, tmp_path, out_fields, id_cols, delimiter, o)

        os.replace(tmp_path, o["output"])
        self.stdout.write(f"{count} rows pseudonymised to {o['output']}")

    def _stream(self, reader, tmp_path, out_fields, id_cols, delimiter, o) -> int:

        key = settings.LINKAGE_KEY
        count = 0
        try:
            with open(tmp_path, "w", newline="", encoding="utf-8") as dst:
                writer = csv.DictWriter(dst, fieldnames=out_fields, delimiter=delimiter)
                writer.writeheader()
                for row_number, row in enumerate(reader, start=2):
                    try:
                        if o["postcode_column"]:
                            value = linkage.address_linkage_key(
                                row[id_cols[0]], row[id_cols[1]], key=key
                            )
                        else:
                            value = linkage.bsn_linkage_key(row[id_cols[0]], key=key)
                    except linkage.IdentifierError as exc:
                        raise CommandError(
                            f"Row {row_number}, column '{id_cols[0]}': {exc}"
                        ) from None
                    out = {k: v for k, v in row.items() if k not in id_cols}
                    out[o["key_column"]] = value
                    writer.writerow(out)
                    count += 1
        except BaseException:
            if os.path.exists(tmp_path):
                os.remove(tmp_path)
            raise
        return count


def _sniff(fh) -> str:
    head = fh.readline()
    fh.seek(0)
    return ";" if head.count(";") > head.count(",") else ","
