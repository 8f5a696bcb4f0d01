from django import template

from incidents import suppression

register = template.Library()


@register.filter
def zip_with(row: list, columns: list) -> list[tuple]:
    """(column, value) pairs of a table row, for the one-block-per-row layout."""
    return list(zip(columns, row, strict=False))


@register.filter
def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@register.filter
def is_suppressed(value) -> bool:
    """A suppressed count ("< 5", "x"): aligned as the numbers of its column."""
    return suppression.is_suppressed(value)
