"""What a portal page (or frame) shows wider than it may be, measured in the browser: the page
itself (a sideways scroll, say at a phone's width), every part matched by `parts` whose text
does not fit in its box, and any such part that reaches past its card's padding or the page's
edge. The browser tests of the page's layout ask it of their own parts."""

from __future__ import annotations

_OVERFLOWS = """(parts) => {
  const found = [];
  const root = document.documentElement;
  const width = root.clientWidth;
  if (root.scrollWidth > width) found.push(`page ${root.scrollWidth}>${width}`);
  for (const el of document.querySelectorAll(parts)) {
    const text = el.innerText.trim().slice(0, 40);
    if (el.scrollWidth > el.clientWidth + 1) found.push(`${text} (cut)`);
    // Past the padding of its card, or past the page's edge.
    const card = el.closest('.card');
    const box = el.getBoundingClientRect();
    let edge = width;
    if (card) {
      edge = card.getBoundingClientRect().right - parseFloat(getComputedStyle(card).paddingRight);
    }
    if (box.right > edge + 1) found.push(`${text} (past the edge)`);
  }
  return found;
}"""


def overflowing(target, parts: str) -> list[str]:
    """`target`: a Playwright page or frame; `parts`: a CSS selector list. Nothing found: []."""
    return target.evaluate(_OVERFLOWS, parts)
