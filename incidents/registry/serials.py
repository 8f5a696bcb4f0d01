"""How serial numbers are compared: normalised, then folded.

- normalised (`serial_key`): upper case, without spaces, dashes, dots, slashes and other
  separators, since ISACS 05.30 leaves their layout to the manufacturer and reporters copy
  them inconsistently ("AK 47-123.456" = "AK47123456");
- folded (`serial_folded`): the normalised serial with each group of characters that wear
  and stamping make look alike mapped to one character: 0/O/D/Q → 0, 1/I/L/7 → 1, 5/S → 5,
  8/B → 8, 2/Z → 2, 6/G → 6;
- `?` stands for one unreadable character and `*` for a run of them (none or several), as
  reporters write an obliterated or partly restored serial (ISACS 05.30 § 9, ITI § 8).

Both are computed by PostgreSQL (stored generated columns of the serial tables), so the
matching (matching.py) and the indexes read the same values whatever wrote the row.
"""

import re

# Separators dropped: whitespace and punctuation other than the two wildcards. Letters of
# every script are kept (Cyrillic and Chinese marks are common on seized weapons).
KEY_SQL = "upper(regexp_replace({serial}, '[[:space:].,:;/\\\\_#+\\-]+', '', 'g'))"
CONFUSED = "ODQIL7SBZG"
FOLDED_TO = "0001115826"
FOLDED_SQL = f"translate({KEY_SQL}, '{CONFUSED}', '{FOLDED_TO}')"
# The folded serial as a LIKE pattern: `?` one character, `*` any run.
# (chr(37) is "%": no percent sign in SQL that Django may format with parameters.)
PATTERN_SQL = f"replace(replace({FOLDED_SQL}, '?', '_'), '*', chr(37))"
UNREADABLE_SQL = "({serial} ~ '[?*]')"
# Fewer readable characters than this match nothing but exactly: too many weapons share
# them.
FEWEST_READABLE = 4


def key_sql(column: str) -> str:
    return KEY_SQL.format(serial=column)


def folded_sql(column: str) -> str:
    return FOLDED_SQL.format(serial=column)


def pattern_sql(column: str) -> str:
    return PATTERN_SQL.format(serial=column)


def unreadable_sql(column: str) -> str:
    return UNREADABLE_SQL.format(serial=column)


def serial_key(serial: str) -> str:
    """The same normalisation in Python, for messages and tests."""
    return re.sub(r"[\s.,:;/\\_#+\-]+", "", serial).upper()


def serial_folded(serial: str) -> str:
    return serial_key(serial).translate(str.maketrans(CONFUSED, FOLDED_TO))
