"""The built smoke book, opened page by page in headless Chromium as a reader would.

For every page, at 1400 and at 420 px: no request leaves 127.0.0.1, every image loads in its
own proportions, math is typeset (no raw TeX left), tables have padding. Then: the search finds a
word that only a notebook holds, and an exercise's solution opens on click. Every chapter has its Binder
and Colab launch buttons, opening the chapter's notebook in the repository, and its repository and issue
buttons. In dark mode and in light mode the chapters' own text (the banner, the tables, their captions, the
figure captions) reads against its background, and figures are opaque. Screenshots are kept in
``_build/screenshots/`` (one page at 1400 px, one at phone width, 420 px; a chapter in dark mode, and its
launch menu open).

Set ``HYDROLIB_BOOK_HTML`` to a built book's ``_build/html`` to test that book instead of
building the smoke book. Without Chromium the test is skipped, except in CI (``CI=1``, set by
``.ci/run``, which installs Debian's chromium), where it fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from hydrolib.book.chapters import REPO_ROOT

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "_build" / "screenshots"
NOTEBOOK_WORD = "interception"  # in chapters 1, 2 and 8, not in the book's own pages' titles
DEAD_PROXY = "http://127.0.0.1:9"


def _chromium() -> str:
    path = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if path is None:
        reason = (
            f"Chromium not found at {CHROMIUM} or on PATH: the browser test needs Debian's chromium "
            "(apt-get install -y chromium; .ci/run installs it)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " — in CI it must run")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def book_html(tmp_path_factory) -> Path:
    given = os.environ.get("HYDROLIB_BOOK_HTML")
    if given:
        html = Path(given)
        assert (html / "index.html").exists(), f"HYDROLIB_BOOK_HTML={given} holds no index.html"
        return html
    _chromium()  # skip before building when there is no browser
    from hydrolib.book.build import build_book

    mp = pytest.MonkeyPatch()
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        mp.setenv(var, DEAD_PROXY)
    try:
        return build_book("smoke", tmp_path_factory.mktemp("book"))
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def served(book_html):
    """The book served on 127.0.0.1 (a free port); yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    from cdp import Browser  # tests/cdp.py (pytest puts tests/ on the path)

    chromium = Browser(_chromium())
    yield chromium
    chromium.close()


def _pages(html: Path) -> list[str]:
    """Every page a reader can reach: the book's and the chapters' HTML (not _sources, _static;
    not index.html, which only redirects to book/intro.html)."""
    return sorted(
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith("_") and p.name not in ("search.html", "index.html")
    )


PAGE_CHECK = r"""
(async () => {
  const images = [...document.images];
  await Promise.all(images.map(img => { img.loading = 'eager';
    return img.complete ? null : new Promise(r => { img.onload = img.onerror = r; setTimeout(r, 10000); }); }));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const main = document.querySelector('main') || document.body;
  const maths = [...main.querySelectorAll('span.math, div.math')];
  // index pages lay out with tables
  const cells = [...main.querySelectorAll('table:not(.indextable):not(.modindextable) td')];
  return {
    broken_images: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    distorted_images: images.filter(i => i.naturalWidth > 0 && i.clientHeight > 0 && Math.abs(
        (i.clientWidth / i.clientHeight) / (i.naturalWidth / i.naturalHeight) - 1) > 0.03)
      .map(i => i.getAttribute('alt')),
    images: images.length,
    untypeset_math: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
    raw_tex: /\\\(|\\\[/.test(main.innerText),
    math: maths.length,
    unpadded_cells: cells.filter(td => parseFloat(getComputedStyle(td).paddingLeft) < 4
                                      || parseFloat(getComputedStyle(td).paddingRight) < 4)
                         .map(td => td.textContent.slice(0, 30)).slice(0, 5),
    cells: cells.length,
  };
})()
"""


def test_every_page_loads_only_local_resources_with_images_math_and_padded_tables(book_html, served, browser):
    pages = _pages(book_html)
    assert "notebooks/03_stl_vs_mtl.html" in pages and "book/citing.html" in pages, pages
    report = {}
    for page, width in [(page, width) for page in pages for width in (1400, 420)]:
        browser.open(f"{served}/{page}", width=width)
        result = browser.evaluate(PAGE_CHECK, timeout=60)
        outside = [
            u
            for u in browser.requested_urls()
            if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).hostname != "127.0.0.1"
        ]
        problems = {
            "requests leaving 127.0.0.1": outside,
            "failed requests": browser.failed_requests(),
            "images that did not load": result["broken_images"],
            "images out of proportion": result["distorted_images"],
            "math not typeset": result["untypeset_math"]
            + (["raw \\( or \\[ in the text"] if result["raw_tex"] else []),
            "table cells without padding": result["unpadded_cells"],
        }
        problems = {k: v for k, v in problems.items() if v}
        assert not problems, f"{page} at {width} px: {problems}"
        report[page] = (result["images"], result["math"], result["cells"])
    # the chapters carry what the checks are about: figures, typeset formulas, tables
    assert report["notebooks/03_stl_vs_mtl.html"][0] >= 3
    assert report["notebooks/03_stl_vs_mtl.html"][1] >= 3
    assert report["notebooks/03_stl_vs_mtl.html"][2] >= 10
    print(
        "\n".join(
            f"{page}: {n_img} images, {n_math} formulas, {n_cells} table cells"
            for page, (n_img, n_math, n_cells) in report.items()
        )
    )


def test_search_finds_a_word_from_a_notebook(served, browser):
    browser.open(f"{served}/search.html?q={NOTEBOOK_WORD}")
    links = browser.evaluate("""
      (async () => {
        for (let i = 0; i < 100; i++) {
          const found = [...document.querySelectorAll('#search-results li a')].map(a => a.getAttribute('href'));
          if (found.length) { return found; }
          await new Promise(r => setTimeout(r, 100));
        }
        return [];
      })()""")
    assert any("notebooks/" in link for link in links), f"searching {NOTEBOOK_WORD!r} found {links}"


def test_an_exercise_solution_opens_on_click(served, browser):
    browser.open(f"{served}/notebooks/02_water_balance.html")
    state = browser.evaluate("""
      (async () => {
        const solution = document.querySelector('div.solution.dropdown');
        const body = () => [...solution.children].filter(c => !c.classList.contains('admonition-title'));
        const visible = () => body().some(c => c.offsetHeight > 0);
        const before = visible();
        solution.querySelector('.admonition-title, button.toggle-button').click();
        await new Promise(r => setTimeout(r, 800));
        return {before: before, after: visible(), text: solution.innerText.slice(0, 200)};
      })()""")
    assert state["before"] is False, f"the solution is visible before any click: {state['text']!r}"
    assert state["after"] is True, f"the solution did not open on click: {state}"


def _chapters(html: Path) -> list[str]:
    return [page for page in _pages(html) if page.startswith("notebooks/")]


def test_every_chapter_has_launch_repository_and_issue_buttons(book_html, served, browser):
    """The rocket menu opens the chapter's own notebook, in the repository the book names, on
    Binder and on Colab; the notebook it opens is in the repository (the launch copies)."""
    from hydrolib.book.launch import BRANCH, REPOSITORY

    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    chapters = _chapters(book_html)
    assert len(chapters) == 8, chapters
    for page in chapters:
        name = Path(page).stem
        browser.open(f"{served}/{page}")
        state = browser.evaluate("""
          (async () => {
            const links = sel => [...document.querySelectorAll(sel)].map(a => a.href);
            const rocket = document.querySelector('.dropdown-launch-buttons button');
            if (!rocket) return {launch: [], hiddenBefore: null, shown: [],
                                 repository: links('a.btn-source-repository-button'),
                                 issues: links('a.btn-source-issues-button')};
            const launch = [...document.querySelectorAll('.dropdown-launch-buttons a')];
            const hiddenBefore = launch.every(a => a.offsetHeight === 0);
            rocket.click();
            await new Promise(r => setTimeout(r, 300));
            const shown = launch.filter(a => a.offsetHeight > 0).map(a => a.innerText.trim());
            rocket.click();
            return {launch: launch.map(a => a.href), hiddenBefore: hiddenBefore, shown: shown,
                    repository: links('a.btn-source-repository-button'), issues: links('a.btn-source-issues-button')};
          })()""")
        notebook = f"notebooks/{name}.ipynb"
        assert state["launch"] == [
            f"https://mybinder.org/v2/gh/{owner_repo}/{BRANCH}?urlpath=lab/tree/{notebook}",
            f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/{notebook}"], (page, state)
        assert state["hiddenBefore"] and state["shown"] == ["Binder", "Colab"], (page, state)
        assert (REPO_ROOT / notebook).exists(), f"{page}'s buttons open {notebook}, which is not in the repository"
        assert state["repository"] == [REPOSITORY], (page, state)
        assert len(state["issues"]) == 1 and state["issues"][0].startswith(f"{REPOSITORY}/issues/new?"), (page, state)


READABILITY = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const parse = text => {
    let m = text.match(/^rgba?\((.+)\)$/);
    if (m) { const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
             return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
    m = text.match(/^color\(srgb (.+)\)$/);
    if (m) { const p = m[1].split(/[\s\/]+/).filter(Boolean).map(Number);
             return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1]; }
    throw new Error('colour ' + text);
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const luminance = c => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = el => {
    const bg = background(el), fg = over(parse(getComputedStyle(el).color), bg);
    const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  };
  const kinds = {
    'banner': '.hydrolib-banner th, .hydrolib-banner td, .hydrolib-banner .admonition-title',
    'smoke warning': '.hydrolib-smoke p',
    'table caption': 'table.hydrolib-table > caption',
    'table cell': 'table.hydrolib-table th, table.hydrolib-table td',
    'figure caption': 'figcaption p, figcaption span.caption-text',
  };
  const checked = {}, unreadable = [];
  for (const [kind, selector] of Object.entries(kinds)) {
    const elements = [...document.querySelectorAll(selector)].filter(e => e.textContent.trim());
    checked[kind] = elements.length;
    for (const e of elements) {
      const ratio = contrast(e);
      if (ratio < 4.5) unreadable.push(`${kind} "${e.textContent.trim().slice(0, 40)}": ${ratio.toFixed(2)}`);
    }
  }
  const figures = [...document.querySelectorAll('main .cell_output img')];
  const transparent = figures.filter(img => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const corner = context.getImageData(1, 1, 1, 1).data;
    return corner[3] < 255;
  }).map(img => img.getAttribute('alt'));
  return {theme: document.documentElement.dataset.theme, checked: checked, unreadable: unreadable,
          figures: figures.length, transparent: transparent};
})()
"""


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_the_chapters_read_in_dark_and_light_mode(book_html, served, browser, scheme):
    """WCAG AA contrast (4.5:1) for the banner "How this page was built", the smoke warning, the
    tables and their captions and the figure captions of every chapter, with the system in dark
    or light mode; every figure opaque, so dark axes never lie on the dark page."""
    totals = {}
    for page in _chapters(book_html):
        browser.open(f"{served}/{page}", color_scheme=scheme)
        result = browser.evaluate(READABILITY, timeout=60)
        assert result["theme"] == scheme, f"{page}: the theme did not follow the system's {scheme} mode"
        assert not result["unreadable"], f"{page} in {scheme} mode, contrast below 4.5: {result['unreadable']}"
        assert not result["transparent"], f"{page}: figures with a transparent background: {result['transparent']}"
        for kind, count in result["checked"].items():
            totals[kind] = totals.get(kind, 0) + count
        totals["figures"] = totals.get("figures", 0) + result["figures"]
    assert all(count > 0 for count in totals.values()), f"nothing of some kind was checked: {totals}"
    if scheme == "dark":
        browser.open(f"{served}/notebooks/03_stl_vs_mtl.html", color_scheme="dark")
        browser.evaluate("document.querySelector('.hydrolib-banner').scrollIntoView()")
        shot = browser.screenshot(SCREENSHOTS / "03_stl_vs_mtl-dark.png", full_page=False)
        assert shot.stat().st_size > 50_000, f"{shot} looks empty"


def test_screenshots_of_two_pages_are_kept(served, browser):
    shots = []
    for page, width in (("notebooks/03_stl_vs_mtl.html", 1400), ("notebooks/01_data.html", 420)):
        browser.open(f"{served}/{page}", width=width)
        browser.evaluate(PAGE_CHECK, timeout=60)
        shots.append(browser.screenshot(SCREENSHOTS / f"{Path(page).stem}-{width}px.png"))
    for shot in shots:
        assert shot.stat().st_size > 50_000, f"{shot} looks empty"
