"""A corpus of hostile SVG documents, each with the error codes that must reject it."""

from __future__ import annotations

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
INK = '<rect x="10" y="10" width="80" height="80" fill="#2563eb"/>'


def svg(body: str, attrs: str = 'viewBox="0 0 100 100"') -> str:
    return f"<svg {NS} {attrs}>{body}</svg>"


def use_bomb(levels: int = 9, fanout: int = 10) -> str:
    groups = ['<path id="l0" d="M0 0L10 10"/>']
    for level in range(1, levels + 1):
        uses = "".join(f'<use xlink:href="#l{level - 1}"/>' for _ in range(fanout))
        groups.append(f'<g id="l{level}">{uses}</g>')
    return svg(f"<defs>{''.join(groups)}</defs><use xlink:href=\"#l{levels}\"/>")


def hostile_documents(canary_path: str, port: int) -> dict[str, tuple[str, set[str]]]:
    """name -> (document, acceptable rejection codes). ``canary_path`` and ``port`` must never be touched."""
    url = f"http://127.0.0.1:{port}"
    return {
        "xxe-file-entity": (
            f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file://{canary_path}">]>' + svg(f"<text>&x;</text>{INK}"),
            {"doctype"},
        ),
        "xxe-external-dtd": (f'<!DOCTYPE svg SYSTEM "{url}/evil.dtd">' + svg(INK), {"doctype"}),
        "xxe-parameter-entity": (
            f'<!DOCTYPE svg [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>' + svg(INK),
            {"doctype", "not-xml"},
        ),
        "billion-laughs": (
            '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
            '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>'
            + svg(f"<text>&f;&f;&f;&f;</text>{INK}"),
            {"doctype", "not-xml"},
        ),
        "quadratic-blowup": (
            f'<!DOCTYPE svg [<!ENTITY q "{"x" * 50_000}">]>' + svg("<text>" + "&q;" * 2000 + f"</text>{INK}"),
            {"doctype", "not-xml"},
        ),
        "use-bomb": (use_bomb(), {"use-expansion", "use-depth"}),
        "use-self-cycle": (svg(f'<use id="u" xlink:href="#u"/>{INK}'), {"reference-cycle"}),
        "use-mutual-cycle": (
            svg(f'<g id="a"><use xlink:href="#b"/></g><g id="b"><use xlink:href="#a"/></g>{INK}'),
            {"reference-cycle"},
        ),
        "gradient-href-cycle": (
            svg(
                '<defs><linearGradient id="g1" xlink:href="#g2"/><linearGradient id="g2" xlink:href="#g1"/></defs>'
                '<rect width="50" height="50" fill="url(#g1)"/>'
            ),
            {"reference-cycle"},
        ),
        "external-image-http": (svg(f'<image xlink:href="{url}/x.png" width="10" height="10"/>{INK}'), {"external-reference"}),
        "external-image-file": (svg(f'<image href="file://{canary_path}" width="10" height="10"/>{INK}'), {"external-reference"}),
        "external-image-relative": (svg(f'<image href="../../{canary_path}" width="10" height="10"/>{INK}'), {"external-reference"}),
        "external-font": (
            svg(f"<style>@font-face {{ font-family: x; src: url({url}/f.woff); }}</style><text>hi</text>{INK}"),
            {"external-reference"},
        ),
        "css-import": (svg(f'<style>@import "{url}/x.css";</style>{INK}'), {"forbidden-css"}),
        "fill-url-external": (svg(f'<rect width="50" height="50" fill="url({url}/p.svg#p)"/>'), {"external-reference"}),
        "script": (svg(f"<script>fetch('{url}')</script>{INK}"), {"forbidden-element"}),
        "onload-handler": (svg(INK, f'viewBox="0 0 100 100" onload="fetch(\'{url}\')"'), {"event-handler"}),
        "javascript-link": (svg(f'<a xlink:href="javascript:alert(1)">{INK}</a>'), {"forbidden-element", "javascript-uri"}),
        "foreign-object": (
            svg(f'<foreignObject width="100" height="100"><iframe xmlns="http://www.w3.org/1999/xhtml" src="{url}"/></foreignObject>{INK}'),
            {"forbidden-element"},
        ),
        "animate-href": (
            svg(f'<a><animate attributeName="href" values="javascript:alert(1)"/>{INK}</a>'),
            {"forbidden-element", "javascript-uri"},
        ),
        "data-html": (svg(f'<image href="data:text/html;base64,PHNjcmlwdD4=" width="9" height="9"/>{INK}'), {"data-uri"}),
        "huge-dimensions": (svg(INK, 'width="1e9" height="1e9" viewBox="0 0 100 100"'), {"bad-number"}),
        "nan-coordinates": (svg('<circle cx="NaN" cy="50" r="40" fill="#000"/>'), {"bad-number"}),
        "infinite-path": (svg('<path d="M0 0 L1e400 5 L9 9Z" fill="#000"/>'), {"bad-path"}),
        "million-command-path": (svg('<path d="M0 0' + " L1 1" * 1_000_000 + '"/>'), {"too-large"}),
        "too-many-commands": (svg('<path d="M0 0' + "L1 1" * 100_001 + '"/>'), {"too-many-commands"}),
        "deep-nesting": (svg("<g>" * 5000 + INK + "</g>" * 5000), {"too-deep", "not-xml"}),
        "too-many-elements": (svg("<g/>" * 30_000 + INK), {"too-many-elements"}),
        "huge-file": (svg("<!--" + "x" * 5_000_000 + "-->" + INK), {"too-large"}),
        "not-svg-root": (f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{INK}</body></html>', {"not-svg"}),
    }
