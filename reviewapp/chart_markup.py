"""Text going into matplotlib charts, and the SVG coming out, made safe for our pages.

Matplotlib reads a pair of `$` as mathtext: a metric named "a $$ b" made every chart of a run
fail (runs freeze the name, so the page broke for good), and "$\\frac{1}{0}$" drew a formula.
chart_text() escapes every `$`. Its SVG styles each element with style="" attributes and a
<style> element, which the strict Content-Security-Policy refuses in a page; without_inline_styles()
turns them into SVG presentation attributes, which the policy allows and which draw the same.

Matplotlib is not thread-safe, and rc_context() changes settings for the whole process (the SVG
hash salt, the fonts): every chart is drawn holding DRAWING, so that in a threaded server
worker one request's chart never takes another's settings.
"""

from __future__ import annotations

import io
import re
import threading

# CSS properties matplotlib writes that SVG also accepts as presentation attributes.
PRESENTATION = frozenset({
    "clip-path", "clip-rule", "color", "display", "fill", "fill-opacity", "fill-rule",
    "font-family", "font-size", "font-stretch", "font-style", "font-variant", "font-weight",
    "opacity", "stroke", "stroke-dasharray", "stroke-dashoffset", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-opacity", "stroke-width", "text-anchor",
    "visibility", "dominant-baseline", "alignment-baseline", "letter-spacing",
})
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL)
_SVG_OPEN = re.compile(r"<svg\b")
DRAWING = threading.RLock()


def drawn_svg(draw, settings: dict, **figure) -> str:
    """The SVG text of a new Figure(**figure) that `draw(fig)` fills. The figure is built and
    saved holding DRAWING, inside rc_context(settings): a figure built outside the lock could
    read another thread's settings (its SVG salt, say). matplotlib is imported here, not at
    start-up."""
    import matplotlib
    from matplotlib.figure import Figure

    buffer = io.StringIO()
    with DRAWING, matplotlib.rc_context(settings):
        fig = Figure(**figure)
        draw(fig)
        fig.savefig(buffer, format="svg")
    return buffer.getvalue()


def chart_text(text: str) -> str:
    """Text for a matplotlib label or title, drawn literally (no mathtext)."""
    return str(text).replace("\\$", "$").replace("$", "\\$")


def _attributes(declarations: str) -> str:
    out = []
    for declaration in declarations.split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name in PRESENTATION and value:
            out.append(f' {name}="{value}"')
    return "".join(out)


def without_inline_styles(svg: str) -> str:
    """The same drawing with presentation attributes instead of style="" and <style>."""
    inherited = ""
    for rule in _STYLE_ELEMENT.findall(svg):
        # matplotlib writes one rule for everything: *{stroke-linejoin: round; ...}
        body = rule[rule.find("{") + 1:rule.rfind("}")] if "{" in rule else ""
        inherited += _attributes(body)
    svg = _STYLE_ELEMENT.sub("", svg)
    svg = _STYLE_ATTRIBUTE.sub(lambda m: _attributes(m.group(1)), svg)
    return _SVG_OPEN.sub("<svg" + inherited, svg, count=1) if inherited else svg
