"""The README and docs/: a README people read (short, the two commands CI runs), and links that
work in a clone — every relative link and picture names a file in the repository (and a
heading there, when it names one), nothing points outside it, and no development-log
references (issue numbers) reach the user."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def links(text: str) -> list[str]:
    return LINK.findall(text) + HTML_LINK.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link: its text
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found, seen = set(), {}
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_the_pages_exist():
    names = {p.name for p in PAGES[1:]}
    assert {"README.md", "architecture.md", "models.md", "performance.md", "trace-format.md",
            "lecturing.md", "robustness.md", "command-line.md",
            "adding-a-family.md"} <= names, names


def test_the_readme_is_at_most_300_lines_and_keeps_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    # .ci/run installs exactly as the README says: its two commands, word for word
    assert ("pip install torch==2.13.0 && pip install -e . && python main.py\n" in text)
    assert ("pip install torch==2.13.0 && pip install -e '.[test]' && "
            "QT_QPA_PLATFORM=offscreen python -m pytest -n 2 --dist loadfile\n" in text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_picture_names_a_file_in_the_repository(page):
    text = page.read_text(encoding="utf-8")
    targets = links(text)
    assert targets, f"{page} links nowhere"
    broken = []
    for target in targets:
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no such heading in {file.name}")
    assert not broken, broken


def test_the_link_checker_sees_links_pictures_and_headings():
    text = "![a](x.png) [b `c`](d.md#e-f) <img src=\"g.png\"> [h](https://i.j)"
    assert links(text) == ["x.png", "d.md#e-f", "https://i.j", "g.png"]
    assert slug("`--untrained`: random weights, on request") == \
        "--untrained-random-weights-on-request"
    assert slug("Saved demos (sessions)") == "saved-demos-sessions"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_issue_numbers_and_nothing_outside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    assert not re.findall(r"\bissues?\s+#?\d+", text, re.I)
    assert not re.findall(r"(?<![\w&/])#\d+\b", text)
    assert "../shared" not in text and "DESIGN.md" not in text
    assert not re.findall(r"\]\(\s*/", text), "absolute paths do not exist in a clone"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_code_block_is_closed(page):
    fences = [line for line in page.read_text(encoding="utf-8").splitlines()
              if line.lstrip().startswith("```")]
    assert len(fences) % 2 == 0, "an unclosed ``` swallows the rest of the page"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_of_the_repository_a_page_names_exists(page):
    """A path written in prose (`tests/models/checkpoints/test_hub.py`, `models/sites.py`) is
    no link, but a reader follows it all the same: it must name a file that is there."""
    named = set(re.findall(r"(?<![\w./-])((?:tests|models|explorer|resources|docs|\.ci)"
                           r"/[\w./-]*\w\.(?:py|md|json|txt|ts|sh))", page.read_text("utf-8")))
    assert [p for p in sorted(named) if not (ROOT / p).exists()] == []
