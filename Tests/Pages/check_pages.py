#!/usr/bin/python3
"""Checks the chapters' pages as a reader's browser shows them (`make check-pages`).

Usage: check_pages.py OUTPUT TRANSCRIPTS SCREENSHOTS

OUTPUT holds the pages of a short run of every chapter (OUTPUT/<NN-chapter>/index.html and the
book's OUTPUT/index.html); TRANSCRIPTS holds each chapter's terminal output as <NN-chapter>.txt.
Each page is opened in Debian's headless Chromium through chromedriver (packages chromium,
chromium-driver, python3-selenium) at a laptop's width, and must have:
  - every image loaded, with a non-zero size;
  - no element wider than the window, except inside a box that scrolls (code, tables, frames);
  - every local link resolving: to a file that exists, or to an element of the page;
  - no absolute path in its text;
  - every section heading its transcript printed.
A screenshot of each whole page goes to SCREENSHOTS for a person to look at. Exits 1 with one
line per failure, 0 when every page passes.
"""

import os
import re
import sys
from urllib.parse import unquote, urlparse

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

WIDTH = 1280
# An absolute path on this kind of machine: a slash that starts a path, then a top-level folder.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:tmp|home|root|work|usr|var|opt|srv|mnt|etc|proc)/")

# Elements sticking out past the window, each with whether an ancestor scrolls it into view.
OVERFLOW_SCRIPT = """
const limit = window.innerWidth + 1;
const scrolls = el => {
  for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
    const style = getComputedStyle(node);
    if (['auto', 'scroll'].includes(style.overflowX) || ['auto', 'scroll'].includes(style.overflow)) return true;
  }
  return false;
};
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  const box = el.getBoundingClientRect();
  if (box.right > limit && !scrolls(el)) wide.push(el.tagName.toLowerCase() + ' ' + Math.round(box.right) + 'px');
}
return [document.documentElement.scrollWidth, wide.slice(0, 5)];
"""

IMAGES_SCRIPT = """
return Array.from(document.images).map(img => [img.getAttribute('src'), img.complete, img.naturalWidth,
                                               img.naturalHeight]);
"""

LINKS_SCRIPT = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));"


def check_page(driver, page, transcript, screenshot):
    """The failures of one page, as lines."""
    failures = []
    driver.set_window_size(WIDTH, 1000)
    driver.get("file://" + os.path.abspath(page))
    for src, complete, width, height in driver.execute_script(IMAGES_SCRIPT):
        if not complete or width == 0 or height == 0:
            failures.append(f"image {src} did not load (complete {complete}, {width}x{height})")
    scroll_width, wide = driver.execute_script(OVERFLOW_SCRIPT)
    inner = driver.execute_script("return window.innerWidth;")
    if scroll_width > inner + 1 or wide:
        failures.append(f"wider than the {inner}px window ({scroll_width}px): {', '.join(wide)}")
    folder = os.path.dirname(page)
    for href in driver.execute_script(LINKS_SCRIPT):
        link = urlparse(href)
        if link.scheme in ("http", "https", "mailto"):
            continue
        if not link.path:
            found = driver.execute_script("return document.getElementById(arguments[0]) !== null;", link.fragment)
            if not found:
                failures.append(f"link {href}: no element with that id")
        elif not os.path.exists(os.path.normpath(os.path.join(folder, unquote(link.path)))):
            failures.append(f"link {href}: no such file")
    text = driver.execute_script("return document.body.innerText;")
    for match in ABSOLUTE_PATH.finditer(text):
        start = max(match.start() - 30, 0)
        failures.append(f"absolute path in the text: ...{text[start:match.end() + 30]!r}...")
        break
    if transcript is not None:
        printed = [line[3:].strip() for line in transcript.splitlines() if line.startswith("## ")]
        shown = driver.execute_script(
            "return Array.from(document.querySelectorAll('h2')).map(h => h.textContent.trim());")
        for heading in printed:
            if heading not in shown:
                failures.append(f"section '{heading}' is in the transcript but not on the page")
    height = driver.execute_script("return document.documentElement.scrollHeight;")
    driver.set_window_size(WIDTH, min(max(height, 1000), 30000))
    driver.save_screenshot(screenshot)
    return failures


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    output, transcripts, screenshots = sys.argv[1:]
    os.makedirs(screenshots, exist_ok=True)
    chapters = sorted(
        name for name in os.listdir(output) if os.path.exists(os.path.join(output, name, "index.html")))
    if not chapters:
        sys.exit(f"check-pages: no chapter pages in {output}")
    options = Options()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    failed = 0
    try:
        pages = [(name, os.path.join(output, name, "index.html")) for name in chapters]
        pages.append(("index", os.path.join(output, "index.html")))
        for name, page in pages:
            transcript_file = os.path.join(transcripts, f"{name}.txt")
            transcript = open(transcript_file, encoding="utf-8").read() if os.path.exists(transcript_file) else None
            if name != "index" and transcript is None:
                print(f"check-pages: {name}: no transcript {transcript_file}")
                failed += 1
            failures = check_page(driver, page, transcript, os.path.join(screenshots, f"{name}.png"))
            for failure in failures:
                print(f"check-pages: {name}: {failure}")
            failed += len(failures)
            print(f"check-pages: {name}: {'ok' if not failures else f'{len(failures)} failure(s)'}")
    finally:
        driver.quit()
    print(f"check-pages: {len(pages)} pages, {failed} failure(s); screenshots in {screenshots}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
