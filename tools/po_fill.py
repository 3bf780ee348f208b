"""Fill empty msgstr entries of a .po file from a JSON mapping {msgid: msgstr} (translator's aid).

Usage: python tools/po_fill.py locale/nl/LC_MESSAGES/django.po translations.json [...]
Prints the msgids that are still untranslated, so nothing is missed silently.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po


def main(po_path: str, *json_paths: str) -> int:
    mapping: dict[str, str] = {}
    for path in json_paths:
        with open(path, encoding="utf-8") as fh:
            mapping.update(json.load(fh))
    with open(po_path, "rb") as fh:
        catalog = read_po(fh)
    missing = []
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        if message.id in mapping:
            message.string = mapping[message.id]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(message.id)
    with open(po_path, "wb") as fh:
        write_po(fh, catalog, width=100)
    for msgid in missing:
        print(json.dumps(msgid, ensure_ascii=False))
    print(f"{len(missing)} untranslated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
