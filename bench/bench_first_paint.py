"""First paint of the respondent pages in headless Chromium under a slow 4G profile (issue #15).

The pages a customer meets on a phone (the welcome page, a question page, the thank-you page)
are loaded with an empty cache under Lighthouse's "slow 4G" profile (`throttling.mobileSlow4G`
of Lighthouse's constants: 150 ms round trip, 1.6 Mbps down, 750 kbps up, CPU slowed 4×; the
figures issue #15 states), through the Chrome DevTools Protocol (`Network.emulateNetworkConditions`,
`Emulation.setCPUThrottlingRate`). Prints, per page, the median first paint in ms over the
rounds and the bytes transferred (HTML, CSS and script: every response of the page). The aim
is 600 ms or less; the floor is about two round trips (the DNS-free connection and the page)
plus the bytes. `--devtools-adjusted` applies the profile as Lighthouse's DevTools throttling
does (latency ×3.75 per request, throughput ×0.9): a harsher, per-request figure.

The application is served in this process by werkzeug on 127.0.0.1 over SQLite, seeded as
`bench_respond.py` seeds it; the answers needed to reach the later pages are given unthrottled.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

CHROMIUM = os.environ.get("BAROMETRE_CHROMIUM", "/usr/bin/chromium")
# Lighthouse's mobileSlow4G (rttMs, throughputKbps, uploadThroughputKbps, cpuSlowdownMultiplier).
RTT_MS = 150
DOWN_KBPS = 1.6 * 1024
UP_KBPS = 750
CPU_SLOWDOWN = 4
# What Lighthouse's DevTools throttling multiplies them by (`--devtools-adjusted`).
DEVTOOLS_LATENCY = 3.75
DEVTOOLS_THROUGHPUT = 0.9
AIM_MS = 600

FIRST_PAINT = """() => {
    const paints = performance.getEntriesByType('paint');
    const paint = paints.find(e => e.name === 'first-paint') || paints[0];
    const navigation = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource');
    return {
        paint: paint ? paint.startTime : null,
        bytes: navigation.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
    };
}"""


def answer_page(page) -> None:
    """Tick the first answer of every question still unanswered, then submit."""
    for name in page.evaluate("""() => [...new Set([...document.querySelectorAll(
            '.survey-form input[type=radio], .survey-form input[type=checkbox]')]
            .map(i => i.name))]"""):
        if not page.locator(f'input[name="{name}"]:checked').count():
            page.locator(f'input[name="{name}"]').first.check(force=True)
    page.click("#submit")
    page.wait_for_load_state("load")


def conditions(adjusted: bool) -> dict[str, object]:
    latency, throughput = (DEVTOOLS_LATENCY, DEVTOOLS_THROUGHPUT) if adjusted else (1.0, 1.0)
    return {"offline": False, "latency": RTT_MS * latency,
            "downloadThroughput": DOWN_KBPS * throughput * 1024 / 8,
            "uploadThroughput": UP_KBPS * throughput * 1024 / 8}


def measure(browser, url: str, network: dict[str, object]) -> dict[str, float]:
    """`url` loaded with an empty cache under the throttling: first paint (ms) and bytes."""
    context = browser.new_context(viewport={"width": 390, "height": 800}, has_touch=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", network)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.goto(url, wait_until="load")
    # The paint entry is recorded once the frame is presented, a moment after "load".
    page.wait_for_function("performance.getEntriesByType('paint').length > 0", timeout=10_000)
    figures = page.evaluate(FIRST_PAINT)
    context.close()
    return figures


def run(rounds: int, adjusted: bool = False) -> dict[str, dict[str, float]]:
    from bench_respond import SECRET_KEY, seed
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    with tempfile.TemporaryDirectory(prefix="bench-paint-") as instance:
        env = {**os.environ, "BAROMETRE_INSTANCE_PATH": instance,
               "BAROMETRE_DATABASE_URL": f"sqlite:///{instance}/barometre.db",
               "BAROMETRE_SECRET_KEY": SECRET_KEY, "PYTHONPATH": str(HERE.parent)}
        tokens = seed(env, rounds)
        network = conditions(adjusted)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        from survey import create_app

        app = create_app({"INSTANCE_PATH": instance,
                          "SQLALCHEMY_DATABASE_URI": env["BAROMETRE_DATABASE_URL"],
                          "SECRET_KEY": SECRET_KEY})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        samples: dict[str, list[dict[str, float]]] = {"welcome": [], "question": [],
                                                      "thank-you": []}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                for token in tokens:
                    link = f"{base}/r/{token}?lang=fr"
                    samples["welcome"].append(measure(browser, link, network))
                    # Unthrottled: answer the first page, measure the second, then finish.
                    context = browser.new_context(viewport={"width": 390, "height": 800})
                    page = context.new_page()
                    page.goto(link, wait_until="load")
                    answer_page(page)
                    samples["question"].append(measure(browser, page.url, network))
                    while page.locator("#submit").count():
                        answer_page(page)
                    samples["thank-you"].append(measure(browser, page.url, network))
                    context.close()
                browser.close()
        finally:
            server.shutdown()
            thread.join()
    return {
        name: {"first_paint_ms": statistics.median(s["paint"] for s in values),
               "bytes": statistics.median(s["bytes"] for s in values)}
        for name, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="links measured (median)")
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--devtools-adjusted", action="store_true",
                        help="latency ×3.75 and throughput ×0.9, as Lighthouse's DevTools mode")
    arguments = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} is not installed (BAROMETRE_CHROMIUM)")
        return
    adjusted = arguments.devtools_adjusted
    results = run(1 if arguments.quick else arguments.rounds, adjusted)
    print(f"slow 4G ({RTT_MS} ms RTT, {DOWN_KBPS / 1024:.1f} Mbps down, {UP_KBPS} kbps up, "
          f"CPU ×{CPU_SLOWDOWN}{', DevTools-adjusted' if adjusted else ''}), empty cache, "
          f"390 px; aim ≤ {AIM_MS} ms")
    for name, figures in results.items():
        verdict = "ok" if figures["first_paint_ms"] <= AIM_MS else "above the aim"
        print(f"  {name:10} first paint {figures['first_paint_ms']:6.0f} ms  "
              f"transferred {figures['bytes']:6.0f} bytes  {verdict}")


if __name__ == "__main__":
    main()
