"""``make build`` (quittance_ops.build): the template it hands ``sam build`` here, and the
250 MiB check of the receipts function with both layers. The build itself needs the SAM CLI,
python3.12 and PyPI, so it runs as ``make build``, not in the suite."""

from __future__ import annotations

import json
from pathlib import Path

from quittance_ops.build import LAMBDA_LIMIT_MIB, MIB, Part, receipts_total, without_weasyprint
from quittance_ops.localstack.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def test_the_build_template_drops_the_weasyprint_layer_and_nothing_else() -> None:
    source = load_template(ROOT / "template.yaml")
    built = without_weasyprint(source, ROOT)
    assert set(source["Resources"]) - set(built["Resources"]) == {"WeasyprintLayer"}
    assert "WeasyprintLayer" not in json.dumps(built)
    receipts = built["Resources"]["ReceiptsFunction"]["Properties"]
    assert receipts.get("Layers", []) == []  # the quittance layer comes from Globals
    assert built["Globals"]["Function"]["Layers"] == [{"Ref": "QuittanceLayer"}]
    # Code folders are absolute: the copy is written outside the checkout.
    for resource in built["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            uri = resource.get("Properties", {}).get(key)
            if isinstance(uri, str):
                assert Path(uri).is_absolute() and Path(uri).is_dir(), uri


def test_the_receipts_total_adds_every_part_and_marks_estimates(tmp_path: Path) -> None:
    function, layer = tmp_path / "fn", tmp_path / "layer"
    (function / "pkg").mkdir(parents=True)
    layer.mkdir()
    (function / "pkg" / "app.py").write_bytes(b"x" * MIB)
    (layer / "lib.so").write_bytes(b"x" * (2 * MIB))
    total, lines = receipts_total([Part("fn", function), Part("lib", layer, estimated=True)])
    assert total == 3 * MIB
    assert lines == [
        "       1.0 MiB  fn",
        "       2.0 MiB  lib  (estimate: this machine's files)",
        f"       3.0 MiB  total, limit {LAMBDA_LIMIT_MIB} MiB",
    ]
