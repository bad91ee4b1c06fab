"""The built book as a reader meets it, in a real headless browser (Playwright driving Debian's Chromium).

Needs ``_build/html`` (``make test`` builds it first) and ``/usr/bin/chromium`` (``.ci/run`` installs it). On a
reader's machine without either, these tests skip and say why; under CI (``CI=true``) they fail instead.
"""

import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml

from conftest import ROOT

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


def toc_docs() -> list[str]:
    """Every document of ``book/_toc.yml``, root first."""
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    docs = [toc["root"]]

    def walk(items):
        for item in items:
            if "file" in item:
                docs.append(item["file"])
            walk(item.get("chapters", []) + item.get("sections", []))

    walk(toc.get("parts", []))
    return docs


def _serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").exists():
        _unavailable("no built book at _build/html: run `make html` (make test does)")
    yield from _serve(HTML)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}: install Debian's chromium package to run the browser test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


# Text nodes outside code, scripts and rendered math that still hold TeX delimiters: math MathJax missed.
RAW_TEX = """() => {
  const bad = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode;
    if (n.parentElement.closest('pre, code, script, style, mjx-container, .highlight, .output')) continue;
    const tex = /\\$[^$\\s][^$]*\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/;
    if (tex.test(n.textContent)) bad.push(n.textContent.trim().slice(0, 80));
  }
  return bad;
}"""


class Visit:
    """One page load: everything a reader's browser saw go wrong."""

    def __init__(self, browser, base: str, path: str, screenshot: Path | None = None):
        self.console, self.failed, self.external = [], [], []
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(r):
            if r.request.url.startswith(base):
                r.continue_()
            else:  # a request leaving the machine: record it and never send it
                self.external.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and self.console.append(m.text))
        page.on("pageerror", lambda e: self.console.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: r.url.startswith(base) and self.failed.append(r.url))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        page.goto(base + path, wait_until="networkidle")
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        self.mathjax = page.evaluate("() => !!(window.MathJax && MathJax.startup)")
        self.math_nodes = page.locator("main .math").count()
        self.mjx = page.locator("main mjx-container").count()
        self.raw_tex = page.evaluate(RAW_TEX)
        self.broken_images = page.evaluate(
            "() => Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src)")
        self.images = page.evaluate("() => document.images.length")
        self.text = page.inner_text("main")
        self.rows = page.evaluate(
            "() => Array.from(document.querySelectorAll('main table tr')).map(r => r.innerText)")
        if screenshot:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        context.close()


BAD_PAGE = """<html><body><main>
<p>Unrendered math: $x^2$ here.</p>
<img src="missing.png">
<script src="https://example.com/tracker.js"></script>
<script>console.error("boom")</script>
</main></body></html>"""


def test_visit_catches_what_it_checks(browser, tmp_path):
    # the checks can fail: a page with raw TeX, a missing image, an external script and a console error
    (tmp_path / "bad.html").write_text(BAD_PAGE)
    base = next(gen := _serve(tmp_path))
    try:
        v = Visit(browser, base, "bad.html")
    finally:
        next(gen, None)
    assert v.raw_tex == ["Unrendered math: $x^2$ here."]
    assert v.external == ["https://example.com/tracker.js"]
    assert any("missing.png" in f for f in v.failed)
    assert any(i.endswith("missing.png") for i in v.broken_images)
    assert "boom" in v.console


@pytest.mark.parametrize("doc", toc_docs())
def test_page_loads_clean_offline(site, browser, doc):
    # no console error, no failed request, nothing requested from outside 127.0.0.1, images decoded,
    # and wherever the page has math MathJax (served by the book itself) has typeset all of it
    v = Visit(browser, site, f"{doc}.html")
    assert v.console == [], v.console
    assert v.failed == [], v.failed
    assert v.external == [], v.external
    assert v.broken_images == [], v.broken_images
    assert v.raw_tex == [], v.raw_tex
    if v.math_nodes:
        assert v.mathjax and v.mjx >= v.math_nodes, (v.math_nodes, v.mjx)


def test_result_pages_have_math_figures_and_provenance(site, browser):
    # every executed notebook renders typeset math, its figures, and a provenance note naming its status
    for nb in sorted((ROOT / "book").glob("*/*.ipynb")):
        doc = nb.relative_to(ROOT / "book").with_suffix("").as_posix()
        record = json.loads((ROOT / "book" / "_claims" / f"{nb.stem.split('-')[0].upper()}.json").read_text())
        v = Visit(browser, site, f"{doc}.html")
        out_of_reach = record["status"] == "out of reach"  # nothing was run there: no figure or formula owed
        assert out_of_reach or v.mjx > 0, f"{doc}: no typeset math"
        n_figures = sum(1 for c in json.loads(nb.read_text())["cells"] for o in c.get("outputs", [])
                        if "image/png" in o.get("data", {}))
        assert v.images >= n_figures and (out_of_reach or n_figures > 0), (doc, v.images, n_figures)
        assert f"Claim {record['id']}: {record['status']}." in v.text
        assert record["source_sha256"][:12] in v.text


def test_status_table_lists_every_claim_record(site, browser):
    v = Visit(browser, site, "status.html")
    for rec in sorted((ROOT / "book" / "_claims").glob("*.json")):
        r = json.loads(rec.read_text())
        assert any(row.startswith(r["id"]) and r["status"] in row for row in v.rows), (r["id"], v.rows)


def test_screenshots_for_review(site, browser):
    pages = {"front.png": "index.html", "y2.png": "boltzmann-2015/y2-rbm-marginalisation.html"}
    for name, path in pages.items():
        Visit(browser, site, path, screenshot=SHOTS / name)
        assert (SHOTS / name).stat().st_size > 10_000


def _anchors_and_links(path: Path) -> tuple[set[str], list[str]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(), "html.parser")
    ids = {t["id"] for t in soup.find_all(id=True)} | {t["name"] for t in soup.find_all("a", attrs={"name": True})}
    return ids, [a["href"] for a in soup.find_all("a", href=True)]


def test_internal_links_and_anchors_resolve():
    # every relative link of every page in the toc points at an existing file, and its #anchor exists there
    if not (HTML / "index.html").exists():
        _unavailable("no built book at _build/html: run `make html` (make test does)")
    broken = []
    for doc in toc_docs():
        page = HTML / f"{doc}.html"
        _, links = _anchors_and_links(page)
        for href in links:
            parts = urlsplit(href)
            if parts.scheme or href.startswith("//") or href.startswith("mailto:"):
                continue
            target = page if not parts.path else Path(unquote(urljoin(page.as_uri(), parts.path))[len("file://"):])
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{doc}: {href} (no file)")
            elif parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in _anchors_and_links(target)[0]:
                    broken.append(f"{doc}: {href} (no anchor)")
    assert broken == [], broken


def test_launch_buttons_point_at_the_executed_notebooks():
    # Binder and Colab links of each result page open that page's executed .ipynb in the repository
    for nb in sorted((ROOT / "book").glob("*/*.ipynb")):
        rel = nb.relative_to(ROOT / "book").as_posix()
        page = HTML / rel.replace(".ipynb", ".html")
        _, links = _anchors_and_links(page)
        assert any("mybinder.org" in h and f"book/{rel}" in h for h in links), rel
        assert any("colab.research.google.com" in h and f"book/{rel}" in h for h in links), rel
        assert any(h.endswith(".py") and "_downloads" in h for h in links), f"{rel}: no .py download"
        assert any(re.search(rf"_sources/{re.escape(rel)}$", h) for h in links), f"{rel}: no .ipynb download"
