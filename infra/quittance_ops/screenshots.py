"""Screenshots of the customer's receipt page, in French and English, taken in headless
Chromium from a fresh local stack after a genuine signed webhook.

    python -m quittance_ops.screenshots --out docs/receipt-page      (or: make screenshots)

The browser helpers here are shared with the e2e test that proves the page in a browser."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# No first-run network traffic, no component downloads: the browser talks to 127.0.0.1 only.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WINDOW = (1100, 900)


def browser_missing() -> str | None:
    """Why no browser can run here, or None when Chromium and its driver are installed."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    return f"not installed: {', '.join(missing)} (infra/system-deps.sh)" if missing else None


@contextlib.contextmanager
def chromium(
    downloads: Path | None = None, language: str = "en", window: tuple[int, int] = WINDOW
) -> Iterator[Any]:
    """Headless Chromium driven by selenium; PDFs are saved to ``downloads`` rather than
    shown in the built-in viewer, so a test can hold the file the button gave."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={window[0]},{window[1]}")
    options.add_argument(f"--lang={language}")
    prefs: dict[str, Any] = {"intl.accept_languages": language}
    if downloads is not None:
        downloads.mkdir(parents=True, exist_ok=True)
        prefs |= {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "plugins.always_open_pdf_externally": True,
        }
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        if downloads is not None:
            # Headless Chromium only saves downloads once told where, through CDP.
            driver.execute_cdp_cmd(
                "Browser.setDownloadBehavior",
                {"behavior": "allow", "downloadPath": str(downloads)},
            )
        yield driver
    finally:
        driver.quit()


def wait_for_download(directory: Path, timeout: float = 30) -> Path:
    """The one finished file in ``directory`` (Chromium writes ``*.crdownload`` meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise TimeoutError(f"no download finished in {directory} within {timeout} s")


def receipt_links(raw_email: bytes, api_url: str) -> list[str]:
    """The receipt-page links of a sent email (its plain-text part carries them whole)."""
    import email
    import email.policy

    message = email.message_from_bytes(raw_email, policy=email.policy.default)
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return re.findall(re.escape(api_url) + r"/r/[A-Za-z0-9_.\-]+(?:\?lang=[a-z]{2})?", text)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def take_screenshots(root: Path, out: Path) -> list[Path]:
    """Pay one invoice through a fresh local stack and photograph its page in both languages."""
    from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
    from quittance_ops.localstack.stack import LocalStack
    from quittance_ops.outbox import sent_emails

    problem = browser_missing()
    if problem:
        raise RuntimeError(problem)
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's request lines
    scratch = root / "out" / "screenshots"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    with (
        (scratch / "function-logs.jsonl").open("w") as logs,
        contextlib.redirect_stdout(logs),
        LocalStack(root, out_dir=scratch) as stack,
    ):
        assert stack.info is not None
        delivery = stripe_payment_intent_succeeded(
            secret=stack.info.webhook_secrets["stripe"],
            invoice_number="F-2026-0142",
            amount_minor=123456,
            name="Camille Durand",
            email="camille.durand@example.com",
        )
        status = _post(
            f"{stack.info.api_url}/webhooks/stripe", delivery.body, dict(delivery.headers)
        )
        if status != 202:
            raise RuntimeError(f"the webhook was answered {status}")
        if not stack.wait_until_drained(timeout=90):
            raise RuntimeError("queues did not drain within 90 s")
        links = [
            link
            for sent in sent_emails(stack.endpoint)
            for link in receipt_links(sent.raw, stack.info.api_url)
        ]
        if not links:
            raise RuntimeError("no email with a receipt link was sent")
        shots = []
        for language in ("fr", "en"):
            target = out / f"{language}.png"
            with chromium(language=language) as driver:
                driver.get(f"{links[0].split('?', 1)[0]}?lang={language}")
                # The whole page, without a scrollbar: size the viewport to the document.
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.execute_cdp_cmd(
                    "Emulation.setDeviceMetricsOverride",
                    {
                        "width": WINDOW[0],
                        "height": int(height),
                        "deviceScaleFactor": 1,
                        "mobile": False,
                    },
                )
                driver.save_screenshot(str(target))
            shots.append(target)
    return shots


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/receipt-page"))
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    for shot in take_screenshots(root, args.out.resolve()):
        print(json.dumps({"screenshot": str(shot)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
