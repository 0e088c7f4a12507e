"""The web UI in headless Chromium (Debian's, driven by Playwright): sign in, upload, watch
the badge go from queued to completed, read the transcript, follow a citation into the
audio, download the SRT. Screenshots are kept under tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Records every text a badge in the meetings list shows, in order.
WATCH_BADGES = """() => {
  window.__badges = [];
  const seen = (el) => window.__badges.push(el.dataset.status + ':' + el.textContent);
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes)
      if (n.nodeType === 1) n.querySelectorAll('.badge').forEach(seen);
  }).observe(document.getElementById('meetings'), {childList: true, subtree: true});
}"""


# The async API: the sync one runs its own event loop, which pytest-asyncio's fixtures
# (the stack, the namespace) cannot share a thread with.
@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: apt-get install chromium (scripts/bootstrap.sh)")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(
        accept_downloads=True, viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(30_000)
    pg = await context.new_page()
    yield pg
    await context.close()


async def sign_in(page: Page, stack: Stack, key: str) -> None:
    await page.goto(stack.url + "/")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await expect(page.get_by_role("heading", name="Meetings", exact=True)).to_be_visible()
    except AssertionError as e:
        raise AssertionError(f"{e}\npage errors: {errors}") from None


async def test_upload_follow_transcript_citation_download(
    stack: Stack, page: Page, meeting_audio: Path, artifacts: Path
) -> None:
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(f"uncaught: {e}"))

    await sign_in(page, stack, stack.key)
    await page.evaluate(WATCH_BADGES)
    await page.set_input_files("#file", str(meeting_audio))
    await page.get_by_label("Title (optional)").fill("Budget review")
    await page.get_by_role("button", name="Submit").click()

    row = page.locator("[data-meeting-id]", has_text="Budget review")
    await expect(row).to_have_count(1)
    await page.screenshot(path=str(artifacts / "1-submitted.png"), full_page=True)
    badge = row.locator(".badge")
    await expect(badge).to_have_text("Completed", timeout=180_000)
    seen = await page.evaluate("window.__badges")
    assert seen[0].startswith("queued:Queued"), seen
    assert seen[-1] == "completed:Completed", seen
    await page.screenshot(path=str(artifacts / "2-completed.png"), full_page=True)

    await row.get_by_role("link", name="Budget review").click()
    await expect(page.get_by_role("heading", name="Budget review")).to_be_visible()
    segments = page.locator("#transcript li.segment")
    await expect(segments.first).to_be_visible()
    await expect(page.locator("#transcript")).to_contain_text(re.compile("budget", re.IGNORECASE))
    await page.wait_for_function("document.querySelector('#player').readyState >= 1")

    citations = page.locator("#minutes .cites button.time")
    await expect(citations.first).to_be_visible()
    stamps = [float(v) for v in await citations.evaluate_all("bs => bs.map(b => b.dataset.seek)")]
    target = max(stamps)
    assert target > 0, f"some citation should point past the start: {stamps}"
    citation = citations.nth(stamps.index(target))
    # By keyboard, as a screen-reader or keyboard user would.
    await citation.focus()
    await page.keyboard.press("Enter")
    # The player jumps to the cited moment (and plays on from there).
    await page.wait_for_function(
        f"Math.abs(document.querySelector('#player').currentTime - {target}) < 1.0"
    )
    await page.screenshot(path=str(artifacts / "3-meeting.png"), full_page=True)

    async with page.expect_download() as info:
        await page.locator("[data-download=srt]").click()
    srt = artifacts / "transcript.srt"
    await (await info.value).save_as(srt)
    text = srt.read_text()
    assert re.search(r"^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n", text, re.MULTILINE)
    assert "budget" in text.lower()
    # Summarize again with another template: the minutes are replaced when ready.
    await page.get_by_label("Minutes template").select_option("standup")
    await page.get_by_role("button", name="Summarize again").click()
    await expect(page.locator("#minutes")).to_contain_text("template standup", timeout=60_000)
    await expect(page.locator("#status")).to_have_text("Completed")

    # The sign-in probes the admin API to show the Admin link: a 403 there is expected.
    assert [e for e in console_errors if "status of 403" not in e] == [], console_errors


async def test_phone_layout_and_admin_page(stack: Stack, browser: Browser, artifacts: Path) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(30_000)
    page = await context.new_page()
    try:
        await page.goto(stack.url + "/ui/")
        await page.get_by_label("API key").fill("mk_00000000_wrong")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert").first).to_contain_text("refused")

        await sign_in(page, stack, stack.admin_key)
        # A file dropped on the drop zone is taken for upload.
        await page.locator("#dropzone").evaluate("""zone => {
            const data = new DataTransfer();
            data.items.add(new File(["RIFF"], "dropped-standup.wav", {type: "audio/wav"}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }""")
        await expect(page.locator("#chosen")).to_contain_text("dropped-standup.wav")
        # Nothing wider than the phone's screen: no sideways scrolling.
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        await page.get_by_role("link", name="Admin").click()
        await expect(page.get_by_role("heading", name="Admin")).to_be_visible()
        workers = page.get_by_role("region", name="Workers consuming each stage's queue")
        await expect(workers).to_contain_text("transcribe")
        await expect(page.locator("#dead-letters")).to_contain_text("Dead letters")
        await page.screenshot(path=str(artifacts / "admin-phone.png"), full_page=True)
    finally:
        await context.close()
