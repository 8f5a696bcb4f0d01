"""The documentation's pages (docs/, built by MkDocs), for tests that check what they say."""

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def docs_page(path: str) -> str:
    """The text of one page, by its path under docs/ (e.g. "clients/hxl.md")."""
    return (DOCS / path).read_text()
