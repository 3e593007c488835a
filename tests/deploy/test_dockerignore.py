""".dockerignore: what a developer's checkout holds beside the sources stays out of the image."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _patterns(name: str) -> set[str]:
    lines = (REPO_ROOT / name).read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_everything_git_ignores_stays_out_of_the_image():
    """`COPY . .` took the checkout's .pytest_cache/, .ruff_cache/, .import_linter_cache/ and
    every package's __pycache__/ into the image: .dockerignore matches a bare name only at the
    top of the context (`__pycache__` kept out ./__pycache__ alone), where .gitignore matches
    it in any directory."""
    ignored = _patterns(".dockerignore")
    for pattern in _patterns(".gitignore") | {".import_linter_cache/"}:
        name = pattern.strip("/")
        # .gitignore: a leading slash anchors at the top, as every .dockerignore line is;
        # without one, or with a wildcard, it matches at any depth: `**/` in .dockerignore.
        anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
        wanted = name if anchored else f"**/{name}"
        assert wanted in ignored, (pattern, wanted)
