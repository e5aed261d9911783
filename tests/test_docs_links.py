"""The user documentation holds together: every relative link and #anchor resolves.

Checks README.md and docs/*.md the way GitHub and MkDocs render them: a link's file must
exist, and an anchor must match a heading's slug under both GitHub's rules and MkDocs'
(python-markdown's toc), so it works on either. Links from docs/ stay inside docs/ (MkDocs
builds that folder only), and mkdocs.yml lists every page. Fast: no network, no build.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
# Pages other branches write; links to them are not checked until they exist.
PENDING_PAGES = {}
README_LIMIT_BYTES = 25_000

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_INDENTED_CODE = re.compile(r"(?:^\n)((?:^(?: {4}|\t).*\n?)+)", re.MULTILINE)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_INLINE_LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]*)(?:\s+"[^"]*")?\)')
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def documents() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _without_code(text: str) -> str:
    """Fenced and indented code blocks and code spans hold examples, not links."""
    text = _FENCE.sub("", text)
    text = _INDENTED_CODE.sub("\n", text)
    return _CODE_SPAN.sub("code", text)


def links(text: str) -> list[str]:
    prose = _without_code(text)
    return [*_INLINE_LINK.findall(prose), *_REFERENCE.findall(prose)]


def _heading_text(raw: str) -> str:
    """The text a heading renders to: code spans keep their content, links their label."""
    text = _CODE_SPAN.sub(lambda m: m[2].strip(), raw)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return text.replace("*", "").strip()


def github_slug(text: str) -> str:
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def mkdocs_slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", ascii_text).strip().lower())


def anchors(path: Path) -> dict[str, list[str]]:
    """GitHub anchor -> the MkDocs anchors of the headings that carry it (in order)."""
    found: dict[str, list[str]] = {}
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    for match in _HEADING.finditer(text):
        title = _heading_text(match[2])
        found.setdefault(github_slug(title), []).append(mkdocs_slug(title))
    return found


def broken_links(document: Path, root: Path = REPO_ROOT) -> list[str]:
    problems = []
    for target in links(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # http(s), mailto: not checked offline
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        where = f"{document.relative_to(root)}: ({target})"
        if document.parent == DOCS and DOCS not in (linked, *linked.parents):
            problems.append(f"{where} leaves docs/, which MkDocs cannot follow")
            continue
        if not linked.exists():
            if linked.parent == DOCS and linked.name in PENDING_PAGES:
                continue
            problems.append(f"{where} names a missing file")
            continue
        if not anchor:
            continue
        if linked.suffix != ".md":
            problems.append(f"{where}: an anchor into a file that is not Markdown")
            continue
        slugs = anchors(linked).get(anchor)
        if slugs is None:
            problems.append(f"{where}: no heading has the anchor #{anchor}")
        elif len(slugs) > 1:
            problems.append(f"{where}: #{anchor} names {len(slugs)} headings (ambiguous)")
        elif slugs[0] != anchor:
            problems.append(f"{where}: MkDocs names that heading #{slugs[0]}")
    return problems


@pytest.mark.parametrize("document", documents(), ids=lambda path: path.name)
def test_every_relative_link_and_anchor_resolves(document: Path) -> None:
    assert broken_links(document) == []


def test_mkdocs_navigation_lists_every_page() -> None:
    config = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.findall(r"^\s*-\s*(?:.+?:\s*)?([\w./-]+\.md)\s*$", config, re.MULTILINE)
    pages = {path.name for path in DOCS.glob("*.md")}
    assert sorted(pages - set(nav)) == [], "pages missing from mkdocs.yml's nav"
    missing = [page for page in nav if page not in pages and page not in PENDING_PAGES]
    assert missing == [], "mkdocs.yml names pages that do not exist"


def test_readme_stays_short_and_cites_no_internal_document() -> None:
    readme = REPO_ROOT / "README.md"
    assert readme.stat().st_size <= README_LIMIT_BYTES
    for document in documents():
        text = document.read_text(encoding="utf-8")
        assert not re.search(r"\bSPEC\b", text), f"{document.name} cites the internal spec"


def test_the_checker_finds_what_is_broken(tmp_path: Path) -> None:
    """The checks above could pass by finding nothing; on a broken page they must not."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Exits: `quant.exit_policy`\n\n## Measuring: `regimes --evaluate`\n\n"
        "[ok](#exits-quantexit_policy) [gone](missing.md) [bad](#no-such-heading) "
        "[github only](#measuring-regimes---evaluate)\n\n"
        "```\n[in code](missing-too.md)\n```\n`[span](missing-three.md)`\n",
        encoding="utf-8",
    )
    assert links(page.read_text()) == [
        "#exits-quantexit_policy",
        "missing.md",
        "#no-such-heading",
        "#measuring-regimes---evaluate",
    ]
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 3, problems
    assert "missing file" in problems[0]
    assert "no heading" in problems[1]
    assert "MkDocs names that heading #measuring-regimes-evaluate" in problems[2]
