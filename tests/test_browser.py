"""The built site, served on localhost and used in headless Chromium the way readers use it.

Needs Chromium (Debian's `chromium` package; `make test` installs it when run as root) at
/usr/bin/chromium or at the path in COURSE_CHROMIUM. Screenshots go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import functools
import http.server
import io
import os
import threading
import urllib.parse
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from tools import course

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = course.REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
# A search term per chapter that its page (and few others) contains.
PHONE = {"width": 375, "height": 740}
TEXT_PAGES = ["book/intro", "book/setup"]


@pytest.fixture(scope="module")
def site_url(built_site):
    """The built site served over HTTP on a free local port."""
    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: install Debian's `chromium` package "
                    "(`make test` does so when run as root) or set COURSE_CHROMIUM to its path")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class Visit:
    """A page opened in a fresh context, with its console errors and failed local requests."""

    def __init__(self, browser, site_url: str, **context_options):
        self.site_url = site_url
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.external: list[str] = []
        self.context.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})")
                     if r.url.startswith(site_url) else None)
        self.page.on("response", lambda r: self.failed.append(f"{r.url} ({r.status})")
                     if r.url.startswith(site_url) and r.status >= 400 else None)

    def _console(self, message):
        """Console errors count, except the failed loads of the external requests dropped below."""
        dropped = message.text.startswith("Failed to load resource") and not message.location.get("url", "").startswith(self.site_url)
        if message.type == "error" and not dropped:
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def _route(self, route):
        """Local requests go through; the network is not there, so external ones are noted and dropped."""
        if route.request.url.startswith(self.site_url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def open(self, page: str):
        response = self.page.goto(f"{self.site_url}/{page}.html", wait_until="load")
        assert response.status == 200, f"{page}: HTTP {response.status}"
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site_url):
    opened = []

    def open_visit(**context_options) -> Visit:
        opened.append(Visit(browser, site_url, **context_options))
        return opened[-1]

    yield open_visit
    for v in opened:
        v.close()


def screenshot(page, name: str, **options) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **options)


@pytest.mark.parametrize("page", course.toc_files())
def test_page_loads_without_errors_or_missing_assets(page, visit):
    v = visit(viewport={"width": 1280, "height": 900})
    loaded = v.open(page)
    loaded.wait_for_load_state("networkidle")
    images = loaded.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => i.src.startsWith(location.origin) && !(i.complete && i.naturalWidth > 0))"
               ".map(i => i.src)")
    screenshot(loaded, page.replace("/", "__"))
    assert not v.failed, f"missing assets: {v.failed}"
    assert not images, f"images that did not load: {images}"
    assert not v.console_errors, f"console errors: {v.console_errors}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in course.chapter_paths()])
def test_chapter_buttons_solutions_and_figures(path, visit):
    v = visit(viewport={"width": 1280, "height": 900})
    page = v.open(f"notebooks/{path.stem}")

    colab = page.eval_on_selector_all(
        "a[href^='https://colab.research.google.com/github/']", "links => links.map(a => a.href)")
    assert colab and set(colab) == {course.colab_url(path)}, f"Colab links: {colab}"
    repo_file = course.colab_url(path).split("/blob/main/", 1)[1]
    assert (course.REPO_ROOT / repo_file).is_file(), f"the Colab link names {repo_file}, which does not exist"

    download = page.eval_on_selector_all(f"a[href$='_sources/notebooks/{path.name}']", "links => links.map(a => a.href)")
    assert download, "no download button for the notebook"
    fetched = page.request.get(download[0])
    assert fetched.status == 200 and fetched.json()["cells"], "the download does not give the notebook"

    solution = page.locator(".tag_exercise-solution").first
    code = solution.locator(".cell_input")
    assert not code.is_visible(), "a solution is visible before it is clicked"
    solution.locator("summary").first.click()
    code.wait_for(state="visible", timeout=5000)

    n_figures = sum(1 for c in course.code_cells(course.read_notebook(path))
                    for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    shown = page.eval_on_selector_all(".cell_output img", "imgs => imgs.filter(i => i.naturalWidth > 0).length")
    assert shown == n_figures, f"{shown} figures shown, the notebook has {n_figures}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in course.chapter_paths()])
def test_search_finds_every_chapter_by_its_title(path, visit, site_url):
    title = course.chapter_meta(course.read_notebook(path))["title"]
    page = visit().page
    page.goto(f"{site_url}/search.html?q={urllib.parse.quote(title)}")
    page.wait_for_selector(f"#search-results a[href*='{path.stem}']", timeout=15000)


def test_dark_mode_toggles_and_figures_stay_legible(visit):
    v = visit(viewport={"width": 1280, "height": 900}, color_scheme="light")
    page = v.open("notebooks/01_tensors")
    toggle = page.locator("button.theme-switch-button").first
    for _ in range(3):  # the button cycles through light, dark and auto
        if page.evaluate("document.documentElement.dataset.theme") == "dark":
            break
        toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert luminance(background) < 0.3, f"the dark theme's background is {background}"
    figure = page.locator(".cell_output img").first
    figure.scroll_into_view_if_needed()
    screenshot(page, "notebooks__01_tensors-dark")
    pixels = Image.open(io.BytesIO(figure.screenshot())).convert("L")
    corner = pixels.crop((0, 0, 12, 12))  # the figure's own background, outside the axes
    assert ImageStat.Stat(corner).mean[0] > 150, "the figure's background is dark: black axes would vanish"


@pytest.mark.parametrize("page_name", TEXT_PAGES)
def test_phone_has_no_horizontal_scrolling(page_name, visit):
    v = visit(viewport=PHONE, is_mobile=True, has_touch=True)
    page = v.open(page_name)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    screenshot(page, page_name.replace("/", "__") + "-phone")
    assert overflow <= 1, f"{overflow} px of horizontal scrolling on a phone"


def luminance(css_color: str) -> float:
    values = [float(v) for v in css_color[css_color.index("(") + 1:-1].split(",")[:3]]
    return sum(w * v / 255 for w, v in zip((0.2126, 0.7152, 0.0722), values))
