"""REPORT.html: the audit as one self-contained page, figures inline.

The page is REPORT.md rendered by Python-Markdown (tables, fenced code), with
every local image embedded as a ``data:`` URI so that the file can be mailed or
attached to a review on its own.  A figure referenced as a PDF is shown by its
PNG twin (same stem) when one exists; links to other files (derivation PDFs,
CSV tables) stay relative, so they work beside REPORT.md in the output folder.
Nothing is fetched from the network: no scripts, fonts or style sheets outside
the page.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import markdown

_MEDIA = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_IMG = re.compile(r'<img\b([^>]*?)\bsrc="([^"]+)"([^>]*)>')

_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 52em; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #111; }
h1, h2, h3 { font-family: 'Helvetica Neue', Arial, sans-serif; line-height: 1.2; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border-top: 1px solid #999; border-bottom: 1px solid #999; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
thead th { border-bottom: 2px solid #333; }
code, pre { font-family: 'DejaVu Sans Mono', Menlo, monospace; font-size: 0.88em; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
img { max-width: 100%; height: auto; }
@media print { body { max-width: none; } a { color: inherit; } }
"""


def _embedded(src: str, root: Path) -> str | None:
    """A data URI for the local image `src` (relative to `root`), or None if it is not a local image file."""
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith("/"):
        return None  # a URL or an absolute path: left as the author wrote it
    path = (root / src).resolve()
    if not path.is_relative_to(root.resolve()):
        return None
    if path.suffix.lower() == ".pdf":
        path = path.with_suffix(".png")
    media = _MEDIA.get(path.suffix.lower())
    if media is None or not path.is_file():
        return None
    return f"data:{media};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def report_html(report_md: str, root: Path, title: str = "hfx claim audit") -> str:
    """The HTML page for `report_md`, whose relative links are resolved against the folder `root`."""
    body = markdown.markdown(report_md, extensions=["tables", "fenced_code", "sane_lists"], output_format="html")

    def inline(match: re.Match[str]) -> str:
        before, src, after = match.groups()
        uri = _embedded(html.unescape(src), root)
        return match.group(0) if uri is None else f'<img{before}src="{uri}"{after}>'

    body = _IMG.sub(inline, body)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
