"""``xlplan serve`` as a real process on a loopback port, driven over HTTP."""

import random
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from xlplan import udfs
from xlplan.excel.registry import office_name

from server_helpers import free_port, request, running_server

GADRE = Path(__file__).parent / "data" / "gadre_overtraining_104runs.csv"
TOKEN = "s3cret-token-for-tests"
OFFICE = "{http://schemas.microsoft.com/office/appforoffice/1.1}"
BT = "{http://schemas.microsoft.com/office/officeappbasictypes/1.0}"


def _call(name, *args):
    """A call body in the xlwings convention: one 2-D matrix per argument."""
    return {
        "func_name": name,
        "args": [a if isinstance(a, list) else [[a]] for a in args],
        "caller_address": "Sheet1!A1",
        "version": "test",
        "runtime": "1.4",
        "client": "pytest",
    }


def _gadre_runs(everything=False):
    frame = pd.read_csv(GADRE)
    frame = frame if everything else frame[frame.dataset == "c4_original"]
    rows = frame[["params", "tokens", "loss_c4_val"]].values.tolist()
    return [["params", "tokens", "loss"], *rows]


@pytest.fixture(scope="module")
def server():
    with running_server() as base:
        yield base


def test_health_and_every_file_of_the_add_in(server):
    status, health = request(f"{server}/health")
    assert status == 200 and health["status"] == "ok" and health["functions"] == len(udfs.FUNCTIONS)
    status, page = request(f"{server}/taskpane.html")
    assert status == 200 and all(f"XLPLAN.{office_name(name)}(" in page for name in udfs.FUNCTIONS)
    status, script = request(f"{server}/functions.js")
    assert status == 200 and script.startswith("globalThis.XLPLAN_SERVER = {")
    assert f'"url": "{server}"' in script


def test_metadata_is_generated_from_the_functions(server):
    status, metadata = request(f"{server}/functions.json")
    assert status == 200
    functions = {f["id"]: f for f in metadata["functions"]}
    assert list(functions) == [office_name(name) for name in udfs.FUNCTIONS]
    for name, spec in udfs.FUNCTIONS.items():
        entry = functions[office_name(name)]  # XLPLAN.HARDWARE, the namespace not doubled
        assert entry["name"] == office_name(name) and entry["description"] == spec.description
        assert [p["name"] for p in entry["parameters"]] == [p.name for p in spec.params]
        assert [p["optional"] for p in entry["parameters"]] == [p.optional for p in spec.params]
        assert entry["result"]["dimensionality"] == ("matrix" if spec.result else "scalar")
        assert all(p["description"] for p in entry["parameters"])
    opt = functions["OPT_PARAMS"]["parameters"]
    assert [p["dimensionality"] for p in opt] == ["scalar", "scalar", "matrix", "scalar"]
    assert functions["TOTAL_FLOPS"]["result"]["dimensionality"] == "scalar"


def test_manifest_is_well_formed_and_points_at_this_server(server):
    status, text = request(f"{server}/manifest.xml")
    assert status == 200
    root = ET.fromstring(text.encode())
    assert root.tag == f"{OFFICE}OfficeApp"
    urls = {u.get("id"): u.get("DefaultValue") for u in root.iter(f"{BT}Url")}
    assert urls == {
        "Functions.Script.Url": f"{server}/functions.js",
        "Functions.Metadata.Url": f"{server}/functions.json",
        "Taskpane.Url": f"{server}/taskpane.html",
    }
    images = [i.get("DefaultValue") for i in root.iter(f"{BT}Image") if i.get("DefaultValue")]
    assert images and all(u.startswith(server) for u in images)
    for url in [*urls.values(), *images]:
        assert request(url)[0] == 200, url
    assert root.find(f"{OFFICE}AppDomains/{OFFICE}AppDomain").text == server
    namespace = [s for s in root.iter(f"{BT}String") if s.get("id") == "Functions.Namespace"]
    assert namespace[0].get("DefaultValue") == "XLPLAN"
    assert request(f"{server}/manifest.xml")[1] == text  # same id every time: re-sideload


def test_single_calls_equal_the_python_functions(server):
    cases = [
        ("OPT_PARAMS", 2.1, 1e12),
        ("OPT_PARAMS", "2.1", "1e13", "epoch-2024"),
        ("COST_OPT", 2.0, 1e9, None, None, "h100"),
        ("TOTAL_FLOPS", 7e9, 1e12, 1e13),
        ("SCALING_LOSS", 7e9, 1.4e12),
        ("CHINCHILLA_MODEL", 7e9),
        ("CHINCHILLA_OPT", 2.0),
        ("LIFETIME_COST", 7e9, 1e12, 1e9),
        ("XLPLAN_LAW", "sardana-all"),
        ("XLPLAN_HARDWARE", "paper-a100"),
    ]
    for name, *args in cases:
        status, body = request(f"{server}/call", _call(name, *args))
        expected = udfs.FUNCTIONS[name].func(*args)
        assert status == 200, body
        assert body["result"] == (expected if isinstance(expected, list) else [[expected]])
    law = udfs.XLPLAN_LAW("epoch-2024")  # a 1x5 range as the law, as FIT_COEFFS returns
    status, body = request(f"{server}/call", _call("OPT_PARAMS", 2.1, 1e12, law))
    assert body["result"] == udfs.OPT_PARAMS(2.1, 1e12, "epoch-2024")


@pytest.mark.parametrize(
    "call, status, code, words",
    [
        (_call("OPT_PARAMS", 1.5, 1e12), 400, "#NUM!", ["loss=1.5", "1.69"]),
        (_call("OPT_PARAMS", 2.1, -1), 400, "#NUM!", ["inf_tokens=-1"]),
        (_call("OPT_PARAMS", "abc", 1e12), 400, "#VALUE!", ["loss", "abc"]),
        (_call("OPT_PARAMS", 2.1, 1e12, "nope"), 400, "#VALUE!", ["nope", "chinchilla"]),
        (_call("OPT_PARAMS", 2.1, 1e12, [[1, 2, 3, 4]]), 400, "#VALUE!", ["law"]),
        (_call("OPT_PARAMS", 2.1), 400, "#VALUE!", ["takes 2 to 4 arguments, got 1"]),
        (_call("os.system", "ls"), 404, "#NAME?", ["unknown function", "OPT_PARAMS"]),
        (_call("__import__", "os"), 404, "#NAME?", ["unknown function"]),
    ],
)
def test_bad_calls_get_a_clear_4xx(server, call, status, code, words):
    got_status, body = request(f"{server}/call", call)
    assert got_status == status and body["error"]["code"] == code, body
    for word in words:
        assert word in body["error"]["message"], body
    assert "Traceback" not in body["error"]["message"]


def test_a_path_in_a_cell_is_never_opened_by_the_server(server, tmp_path):
    """The same #VALUE! whether the law file exists or not: the server reveals nothing."""
    from xlplan.lawfile import write_law_file

    real, missing = tmp_path / "real.json", tmp_path / "nothere.json"
    write_law_file(udfs.laws.get_law("epoch-2024"), real)
    bodies = []
    for path in (real, missing):
        status, body = request(f"{server}/call", _call("OPT_PARAMS", 2.1, 1e12, str(path)))
        assert status == 400 and body["error"]["code"] == "#VALUE!", body
        assert f"unknown law '{path}'" in body["error"]["message"], body
        bodies.append(body)
    assert bodies[0]["error"]["message"].replace("real", "X") == bodies[1]["error"][
        "message"
    ].replace("nothere", "X")
    status, body = request(
        f"{server}/batch",
        {"calls": [_call("XLPLAN_LAW", str(real)), _call("SCALING_LOSS", 7e9, 1e12, str(real))]},
    )
    assert status == 200
    assert [a["error"]["code"] for a in body["results"]] == ["#VALUE!", "#VALUE!"], body


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"{not json", ["malformed request body", "JSON"]),
        (b'{"args": []}', ["malformed request body", "func_name"]),
        (b'{"func_name": "OPT_PARAMS", "args": [2.1, 1e12]}', ["malformed request body", "args"]),
        (b"", ["malformed request body"]),
    ],
)
def test_malformed_bodies_get_400_and_the_server_keeps_serving(server, raw, words):
    status, body = request(f"{server}/call", raw=raw)
    assert status == 400 and body["error"]["code"] == "#VALUE!"
    for word in words:
        assert word in body["error"]["message"], body
    assert request(f"{server}/call", _call("OPT_PARAMS", 2.1, 1e12))[0] == 200


def test_a_batch_answers_every_call_in_order_and_errors_stay_in_their_cell(server):
    calls = [_call("OPT_PARAMS", 1.9 + i / 100, 1e12) for i in range(50)]
    calls[7] = _call("OPT_PARAMS", 1.5, 1e12)
    calls[8] = _call("NOPE")
    status, body = request(f"{server}/batch", {"calls": calls})
    assert status == 200 and len(body["results"]) == 50
    for i, answer in enumerate(body["results"]):
        if i == 7:
            assert answer["status"] == 400 and answer["error"]["code"] == "#NUM!"
        elif i == 8:
            assert answer["status"] == 404 and answer["error"]["code"] == "#NAME?"
        else:
            assert answer == {"status": 200, "result": udfs.OPT_PARAMS(1.9 + i / 100, 1e12)}


def test_fit_coeffs_in_a_worker_equals_the_python_function(server):
    runs = _gadre_runs()
    status, body = request(f"{server}/call", _call("FIT_COEFFS", runs), timeout=120)
    assert status == 200, body
    assert body["result"] == udfs.FIT_COEFFS(runs)
    status, body = request(f"{server}/call", _call("FIT_COEFFS", runs[:4]))
    assert status == 400 and body["error"]["code"] == "#NUM!"
    assert "at least 5 runs" in body["error"]["message"]


def test_a_slow_fit_never_blocks_cheap_calls(server):
    runs = _gadre_runs(everything=True)  # 104 runs
    request(f"{server}/call", _call("FIT_COEFFS", runs[:3]))  # workers warm, nothing cached
    fit = {}

    def run_fit():  # a delta of its own: not a fit the workers remember
        fit["status"], _ = request(
            f"{server}/call", _call("FIT_COEFFS", runs, None, 0.0015), timeout=120
        )
        fit["end"] = time.monotonic()

    thread = threading.Thread(target=run_fit)
    thread.start()
    time.sleep(0.02)
    cheap = [request(f"{server}/call", _call("OPT_PARAMS", 2.1, 1e12))[0] for _ in range(10)]
    cheap_end = time.monotonic()
    thread.join()
    assert cheap == [200] * 10 and fit["status"] == 200
    # The fit takes 0.15-0.5 s of CPU in its worker; ten cheap calls (~1 ms each) are
    # answered meanwhile instead of queueing behind it.
    assert cheap_end < fit["end"]


def test_limits_on_size_cells_batch_and_time():
    runs = _gadre_runs()
    all_runs = _gadre_runs(everything=True)  # 104 runs: a 0.3 s fit, 15x the time limit
    with running_server(
        "--max-body-bytes",
        "20000",
        "--max-cells",
        "400",
        "--max-batch",
        "5",
        "--slow-timeout",
        "0.02",
    ) as base:
        status, body = request(f"{base}/call", _call("FIT_COEFFS", runs * 20))
        assert status == 413 and "over the limit of 20000 bytes" in body["error"]["message"]
        status, body = request(f"{base}/call", _call("FIT_COEFFS", all_runs + all_runs[1:34]))
        assert status == 400 and "runs has 414 cells; at most 400" in body["error"]["message"]
        status, body = request(f"{base}/batch", {"calls": [_call("OPT_PARAMS", 2.1, 0)] * 6})
        assert status == 413
        assert "batch of 6 calls is over the limit of 5" in body["error"]["message"]
        status, body = request(f"{base}/call", _call("FIT_COEFFS", all_runs))
        assert status == 504 and body["error"]["code"] == "#N/A"
        assert "longer than 0.02 s" in body["error"]["message"]
        # the server, and its restarted worker pool, keep serving
        assert request(f"{base}/call", _call("OPT_PARAMS", 2.1, 1e12))[0] == 200
        status, body = request(f"{base}/call", _call("FIT_COEFFS", runs[:3]))
        assert status == 400 and "at least 5 runs" in body["error"]["message"]


def test_concurrent_load_loses_no_answer(server):
    def client(k):
        wrong = 0
        for i in range(200):
            loss = 1.8 + ((k * 200 + i) % 997) / 1000
            if i % 50 == 49:  # a bad cell now and then
                status, body = request(f"{server}/call", _call("OPT_PARAMS", 1.0, 1e12))
                wrong += status != 400 or body["error"]["code"] != "#NUM!"
            else:
                status, body = request(f"{server}/call", _call("OPT_PARAMS", loss, 1e12 * k))
                wrong += status != 200 or body["result"] != udfs.OPT_PARAMS(loss, 1e12 * k)
        return wrong

    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(client, range(20))) == [0] * 20


def test_token_is_required_off_loopback_and_checked_on_every_request():
    port = free_port()
    refused = subprocess.run(
        [sys.executable, "-m", "xlplan", "serve", "--host", "0.0.0.0", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert refused.returncode == 2
    assert "without an access token" in refused.stderr and "Traceback" not in refused.stderr
    short = subprocess.run(
        [sys.executable, "-m", "xlplan", "serve", "--token", "abc"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert short.returncode == 2 and "at least 8 characters" in short.stderr

    with running_server("--host", "0.0.0.0", env={"XLPLAN_TOKEN": TOKEN}, token=TOKEN) as base:
        call = _call("OPT_PARAMS", 2.1, 1e12)
        status, body = request(f"{base}/call", call)
        assert status == 401 and "access token" in body["error"]["message"]
        assert request(f"{base}/call", call, token="wrong-token-123")[0] == 401
        assert request(f"{base}/manifest.xml")[0] == 401
        assert request(f"{base}/call", call, token=TOKEN)[0] == 200
        assert request(f"{base}/health?token={TOKEN}")[0] == 200
        status, manifest = request(f"{base}/manifest.xml?token={TOKEN}")
        root = ET.fromstring(manifest.encode())
        urls = [u.get("DefaultValue") for u in root.iter(f"{BT}Url")]
        assert all(u.endswith(f"?token={TOKEN}") for u in urls)
        assert all(request(u)[0] == 200 for u in urls)  # Office fetches these as they are


@pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl is not installed; .ci/run installs it"
)
def test_https_with_a_certificate_made_here(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(cafile=str(cert))
    with running_server(
        "--certfile", str(cert), "--keyfile", str(key), scheme="https", context=context
    ) as base:
        assert base.startswith("https://")
        status, body = request(f"{base}/call", _call("OPT_PARAMS", 2.1, 1e12), context=context)
        assert status == 200 and body["result"] == udfs.OPT_PARAMS(2.1, 1e12)
        status, manifest = request(f"{base}/manifest.xml", context=context)
        assert f"{base}/functions.js" in manifest
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            request(f"{base}/health", context=ssl.create_default_context())
    missing = subprocess.run(
        [sys.executable, "-m", "xlplan", "serve", "--certfile", str(tmp_path / "nope.pem")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "nope.pem" in missing.stderr


def test_random_calls_never_break_the_server(server):
    """Seeded junk in every argument: each answer is a result or an Excel error, never a 5xx."""
    rng = random.Random(7)
    values = [
        None,
        True,
        0,
        -1,
        1.5,
        2.1,
        1e12,
        1e308,
        -1e308,
        5e-324,
        "",
        " ",
        "abc",
        "1e12",
        "nan",
        "-inf",
        "chinchilla",
        "h100",
        "Ω",
    ]
    names = [*udfs.FUNCTIONS, "NOPE", ""]

    def matrix():
        rows, cols = rng.choice([1, 1, 2, 3]), rng.choice([1, 3, 5, 7])
        return [[rng.choice(values) for _ in range(cols)] for _ in range(rows)]

    # 20 fits whatever the registry's size: more than may wait for the slow workers
    picked = [rng.choice(names) for _ in range(480)] + ["FIT_COEFFS"] * 20
    rng.shuffle(picked)
    calls = [
        {"func_name": name, "args": [matrix() for _ in range(rng.randint(0, 7))]} for name in picked
    ]
    status, body = request(f"{server}/batch", {"calls": calls})
    assert status == 200 and len(body["results"]) == 500
    codes = {"#NUM!", "#VALUE!", "#NAME?", "#N/A"}
    assert sum(c["func_name"] == "FIT_COEFFS" for c in calls) > 16  # more than may wait
    for call, answer in zip(calls, body["results"], strict=True):
        if answer["status"] == 200:
            expected = udfs.FUNCTIONS[call["func_name"]]
            assert all(isinstance(v, float) for row in answer["result"] for v in row), answer
            width = (
                len(answer["result"]) + 1
                if expected.name == "REGRET_TABLE"  # k x k+1
                else max(1, len(expected.result))
            )
            if expected.name == "XLPLAN_HARDWARE":  # 7 settings, or all 12 when asked
                assert len(answer["result"][0]) in (7, width)
            else:
                assert len(answer["result"][0]) == width
        else:
            assert answer["status"] in (400, 404, 503) and answer["error"]["code"] in codes, answer
            if answer["status"] == 503:  # refused: too many distinct fits waiting
                assert udfs.FUNCTIONS[call["func_name"]].slow and "recalculate later" in str(answer)


def test_public_url_goes_into_the_manifest_and_the_script():
    public = "https://xlplan.example.com:8443"
    with running_server("--public-url", public + "/") as base:
        _status, text = request(f"{base}/manifest.xml")
        root = ET.fromstring(text.encode())
        urls = [u.get("DefaultValue") for u in root.iter(f"{BT}Url")]
        assert urls and all(u.startswith(public + "/") and "//" not in u[8:] for u in urls)
        assert root.find(f"{OFFICE}AppDomains/{OFFICE}AppDomain").text == public
        _status, script = request(f"{base}/functions.js")
        assert f'"url": "{public}"' in script.splitlines()[0]
