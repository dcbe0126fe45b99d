"""An admin validates a file exported by another modeler: the answer points at elements and lines, in Chinese."""

from __future__ import annotations

import re

from tests.api.conftest import Api
from tests.engine.test_validator_corpus import CORPUS

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_a_foreign_file_is_answered_with_element_ids_and_lines_in_chinese(api: Api) -> None:
    xml = (CORPUS / "BIC_Cloud_Design_6.2.0__C.1.1-roundtrip.bpmn").read_bytes()
    response = api.post("/api/v1/workflows/validate", "admin", content=xml,
                        headers={"Content-Type": "application/xml"})

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["valid"] is False
    errors = answer["errors"]
    # a <dataOutputAssociation> without its <targetRef> (an XSD error): the task holding it, and the line
    first = errors[0]
    assert first["element_id"] == "UUID_5c317e37-2ae9-4b11-820f-9dcd0f981f58"
    assert first["line"] == 45
    assert first["message"].startswith("<dataOutputAssociation> 缺少子元素")
    assert all((e["element_id"] or e["line"]) and CHINESE.search(e["message"]) for e in errors), errors
    assert not any("{http" in e["message"] for e in errors), errors

    # uploading the same file is refused with the same pointers
    refused = api.post("/api/v1/workflows", "admin", content=xml, headers={"Content-Type": "application/xml"})
    assert refused.status_code == 400
    assert {(e["element_id"], e["line"]) for e in errors} <= {
        (e["element_id"], e["line"]) for e in refused.json()["detail"]}
