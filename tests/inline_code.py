"""Find what a strict Content-Security-Policy (no 'unsafe-inline') would block in a page:
inline <script> and <style> elements, style="" attributes, on*="" event handlers and
javascript: URLs. The route matrix runs it on every page it fetches, for every role."""

from html.parser import HTMLParser

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            if not any(name == "src" for name, _ in attrs):
                self.found.append("inline <script>")

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def _check(self, tag, attrs):
        for name, value in attrs:
            if name == "style":
                self.found.append(f'<{tag} style="{(value or "")[:60]}">')
            elif name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> event handler")
            elif name in URL_ATTRIBUTES and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(html: str) -> list[str]:
    """What in this page a strict CSP would refuse to run or apply, described briefly."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.found
