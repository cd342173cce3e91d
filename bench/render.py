"""Receipt rendering: our warm render beside bare weasyprint on the same HTML, in one run.

    python bench/render.py [--renders 200]

- ours: ReceiptRenderer.render (Jinja2, parsed CSS and font configuration reused, PDF/A-3b,
  receipt.json attached);
- bare: what a naive call does for the same HTML: parse the CSS and build the font
  configuration on every call, same PDF/A-3b variant, no attachment;
- cold: a fresh interpreter's import + first render; PDF size; peak RSS of that process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _stats import line, summary  # noqa: E402

COLD = """
import resource, time
t = time.perf_counter()
from quittance.receipts.render import ReceiptRenderer
from quittance_ops.samples import french_b2c_card
pdf = ReceiptRenderer().render(french_b2c_card()).pdf
elapsed = time.perf_counter() - t
print(elapsed, len(pdf), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()

    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from quittance.receipts.render import PACKAGE_DIR, TEMPLATES_DIR, ReceiptRenderer
    from quittance_ops.samples import french_b2c_card

    renderer = ReceiptRenderer()
    document = french_b2c_card()
    html = renderer.render_html(document)
    css_text = (TEMPLATES_DIR / "receipt.css").read_text(encoding="utf-8")
    base_url = PACKAGE_DIR.as_uri() + "/"

    def bare() -> bytes:
        fonts = FontConfiguration()
        css = CSS(string=css_text, base_url=base_url, font_config=fonts,
                  url_fetcher=renderer.url_fetcher)  # fmt: skip
        return bytes(
            HTML(string=html, base_url=base_url, url_fetcher=renderer.url_fetcher).write_pdf(
                stylesheets=[css], font_config=fonts, pdf_variant="pdf/a-3b"
            )
        )

    for _ in range(10):  # warm both paths
        renderer.render(document)
        bare()
    ours: list[float] = []
    naive: list[float] = []
    for _ in range(args.renders):  # interleaved, so both see the same machine
        start = time.perf_counter()
        pdf = renderer.render(document).pdf
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare()
        naive.append(time.perf_counter() - start)

    cold: list[float] = []
    rss: list[int] = []
    for _ in range(args.cold_runs):
        out = subprocess.run(
            [sys.executable, "-c", COLD], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        cold.append(float(out[0]))
        rss.append(int(out[2]))

    ratio = statistics.median(ours) / statistics.median(naive)
    print(f"render benchmark, {args.renders} warm renders each, interleaved")
    print(line("bare weasyprint (CSS + fonts per call)", naive))
    print(line("quittance ReceiptRenderer.render", ours))
    print(f"{'ours / bare (median)':<44} {ratio:.2f}x  (target ≤ 1.15x)")
    print(
        f"{'cold import + first render (fresh process)':<44} median "
        f"{statistics.median(cold) * 1000:7.0f} ms over {len(cold)}"
    )
    print(f"{'PDF size':<44} {len(pdf)} bytes")
    print(f"{'peak RSS of the cold process':<44} {max(rss) / 1024:.0f} MiB")
    report = {
        "ours_median_ms": statistics.median(ours) * 1000,
        "bare_median_ms": statistics.median(naive) * 1000,
        "ours": summary(ours),
        "bare": summary(naive),
        "ratio": ratio,
        "cold_ms": statistics.median(cold) * 1000,
        "pdf_bytes": len(pdf),
        "peak_rss_mib": max(rss) / 1024,
    }
    (ROOT / "out" / "bench").mkdir(parents=True, exist_ok=True)
    (ROOT / "out" / "bench" / "render.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
