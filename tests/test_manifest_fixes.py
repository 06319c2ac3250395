"""What Microsoft's guidance and tools flagged in the manifest, checked without Node."""

import xml.etree.ElementTree as ET

from xlplan.server.manifest import manifest_xml

from server_helpers import request, running_server

OFFICE = "{http://schemas.microsoft.com/office/appforoffice/1.1}"
TOKEN = "support-url-token-123"


def test_show_taskpane_has_no_taskpane_id():
    """A long-lived shared runtime has one task pane: no <TaskpaneId> (Microsoft's
    "avoid multiple task panes" guidance for the shared runtime)."""
    assert "TaskpaneId" not in manifest_xml("https://localhost:8443", TOKEN)
    assert '<Action xsi:type="ShowTaskpane">' in manifest_xml("https://localhost:8443")


def test_support_url_answers_in_token_mode():
    with running_server("--host", "0.0.0.0", env={"XLPLAN_TOKEN": TOKEN}, token=TOKEN) as base:
        status, text = request(f"{base}/manifest.xml?token={TOKEN}")
        assert status == 200
        support = ET.fromstring(text.encode()).find(f"{OFFICE}SupportUrl").get("DefaultValue")
        assert support.startswith(base) and support.endswith(f"?token={TOKEN}")
        assert request(support)[0] == 200
        assert request(support.split("?")[0])[0] == 401  # the token is what lets it answer
