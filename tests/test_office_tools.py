"""The Office add-in checked with Microsoft's own tools, offline, in Node.

* Office's manifest parser (``OSF.Manifest.OfficeAppManifest`` from
  ``office-addin-manifest-converter``'s ``lib/osfmos.js``) reads the served manifest:
  the custom functions and the ribbon button must both run in the one long-lived shared
  runtime, and a manifest without ``<Page>`` must be refused.
* ``custom-functions-metadata`` (what ``yo office`` projects build ``functions.json``
  with) turns a JSDoc twin of our functions, written from the registry, into metadata
  that must equal the ``functions.json`` we serve.

The npm packages are pinned in tests/js/office-tools/package-lock.json; ``npm ci``
there (``.ci/run`` does it) installs them. Without node or them, these tests skip.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xlplan import udfs
from xlplan.excel.registry import office_name
from xlplan.server.manifest import manifest_xml
from xlplan.server.metadata import functions_metadata

TOOLS = Path(__file__).parent / "js" / "office-tools"
NODE = shutil.which("node")
pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install nodejs)"),
    pytest.mark.skipif(
        not (TOOLS / "node_modules" / "custom-functions-metadata").is_dir()
        or not (TOOLS / "node_modules" / "office-addin-manifest-converter").is_dir(),
        reason="Microsoft's npm tools are not installed: run `npm ci` in "
        "tests/js/office-tools (.ci/run does)",
    ),
]
BASE = "https://localhost:8443"
RUN_TIMEOUT = 120


def _node(script, path):
    done = subprocess.run(
        [NODE, TOOLS / script, path], capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=TOOLS
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _parse(xml, tmp_path):
    path = tmp_path / "manifest.xml"
    path.write_text(xml, encoding="utf-8")
    return _node("parse_manifest.cjs", path)


@pytest.mark.parametrize("token", [None, "s3cret"])
def test_functions_and_button_share_the_long_lived_runtime(tmp_path, token):
    parsed = _parse(manifest_xml(BASE, token), tmp_path)
    assert parsed["ok"], parsed
    assert parsed["customFunctions"] is True
    shared = {"resid": "Taskpane.Url", "lifetime": "long"}
    assert parsed["functionsRuntime"] == shared
    assert [b["runtime"] for b in parsed["buttons"]] == [shared]
    # one task pane per shared runtime: no TaskpaneId on the button's ShowTaskpane action
    assert [b["taskpaneId"] for b in parsed["buttons"]] == [None]


def test_a_manifest_without_page_is_refused(tmp_path):
    xml = manifest_xml(BASE)
    without_page = re.sub(r"\s*<Page>.*?</Page>", "", xml, flags=re.DOTALL)
    assert without_page != xml
    parsed = _parse(without_page, tmp_path)
    assert parsed["ok"] is False
    assert any("Missing required <Page> element" in line for line in parsed["log"]), parsed


def _arguments(spec):
    return ", ".join([*(p.name for p in spec.params), "invocation"])


def _js_type(param):
    return "any[][]" if param.range else "any"


def jsdoc_twin():
    """A JavaScript file declaring every registered function with JSDoc, as yo office does."""
    blocks = []
    for spec in udfs.FUNCTIONS.values():
        shown = office_name(spec.name)  # XLPLAN.HARDWARE, not XLPLAN.XLPLAN_HARDWARE
        lines = ["/**", f" * {spec.description}", f" * @customfunction {shown} {shown}"]
        for p in spec.params:
            name = f"[{p.name}]" if p.optional else p.name
            lines.append(f" * @param {{{_js_type(p)}}} {name} {p.help}")
        # functions.js reads the cell address from the invocation, which Excel passes last
        lines += [
            " * @param {CustomFunctions.Invocation} invocation The calling cell.",
            " * @requiresAddress",
            f" * @returns {{{'number[][]' if spec.result else 'number'}}} result",
            " */",
            f"function {spec.name}({_arguments(spec)}) {{}}",
            "",
        ]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


# What Office assumes for a field the metadata leaves out (the generator omits defaults).
DEFAULTS = {"optional": False, "dimensionality": "scalar"}


def _comparable(metadata):
    """The fields functions.json and the generator both write, defaults filled in."""
    return [
        {
            "id": f["id"],
            "name": f["name"],
            "description": f["description"],
            "parameters": [
                {
                    k: p.get(k, DEFAULTS.get(k))
                    for k in ("name", "description", "type", "dimensionality", "optional")
                }
                for p in f["parameters"]
            ],
            "result": {k: f["result"].get(k, DEFAULTS.get(k)) for k in ("type", "dimensionality")},
            "requiresAddress": f["options"].get("requiresAddress"),
        }
        for f in metadata["functions"]
    ]


def test_microsofts_generator_makes_our_functions_json(tmp_path):
    path = tmp_path / "functions_twin.js"
    path.write_text(jsdoc_twin(), encoding="utf-8")
    generated = _node("generate_metadata.cjs", path)
    assert generated["errors"] == []
    assert _comparable(generated["metadata"]) == _comparable(functions_metadata())
    assert len(generated["metadata"]["functions"]) == len(udfs.FUNCTIONS)


def test_descriptions_fit_offices_limits():
    for spec in udfs.FUNCTIONS.values():
        assert all(len(p.help) <= 128 for p in spec.params), spec.name
