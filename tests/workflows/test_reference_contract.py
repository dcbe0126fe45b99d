"""Static contract of the reference workflows (``workflows/README.md``), read with lxml only.

No engine import: these tests say what the BPMN files must declare (ids, names, pools, lanes,
forms, deadlines, timers, messages, diagram), whatever the engine does with it.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
ROLES = {"liaison", "supervisor", "enforcement", "business"}
CJK = re.compile(r"[\u4e00-\u9fff]")
FLOW_NODES = (
    "startEvent",
    "endEvent",
    "intermediateThrowEvent",
    "intermediateCatchEvent",
    "boundaryEvent",
    "userTask",
    "scriptTask",
    "serviceTask",
    "manualTask",
    "task",
    "sendTask",
    "receiveTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "subProcess",
    "callActivity",
)

# task id -> (file, process, bpmn name, lane role, deadline rule or None, deadline_from or None)
USER_TASKS = {
    "review": ("complaint_handling", "market_regulator", "受理审查", "liaison", "acceptance", "review_clock_from"),
    "arrange_mediation": ("complaint_handling", "market_regulator", "确定调解方式", "liaison", None, None),
    "mediate": ("complaint_handling", "market_regulator", "组织调解", "liaison", "mediation", "accepted_at"),
    "close": ("complaint_handling", "market_regulator", "办结", "liaison", "termination_notice", "mediation_ended_at"),
    "follow_up": ("complaint_handling", "market_regulator", "回访", "liaison", None, None),
    "reply": ("complaint_handling", "market_regulator", "答复咨询", "liaison", None, None),
    "association_review": (
        "complaint_handling",
        "consumer_association",
        "消协受理",
        "liaison",
        "association_acceptance",
        "review_clock_from",
    ),
    "association_mediate": (
        "complaint_handling",
        "consumer_association",
        "消协调解",
        "liaison",
        "mediation",
        "accepted_at",
    ),
    "association_reply": ("complaint_handling", "consumer_association", "答复咨询", "liaison", None, None),
    "committee_mediate": (
        "complaint_handling",
        "mediation_committee",
        "人民调解",
        "liaison",
        "mediation",
        "accepted_at",
    ),
    "confirm_tracking": (
        "complaint_handling",
        "mediation_committee",
        "司法确认跟踪",
        "liaison",
        "judicial_confirmation",
        "agreement_at",
    ),
    "verify_clue": ("case_conversion", "case_conversion", "线索核查", "enforcement", "clue_verification", "clue_at"),
    "approve_extension": ("case_conversion", "case_conversion", "延期审批", "supervisor", None, None),
    # the filing decision is the head's (负责人), within the clue verification period
    "decide_filing": ("case_conversion", "case_conversion", "立案审批", "supervisor", "clue_verification", "clue_at"),
    "investigate": ("case_conversion", "case_conversion", "案件调查", "enforcement", "case_decision", "filed_at"),
    "approve_case_extension": ("case_conversion", "case_conversion", "办案延期审批", "supervisor", None, None),
    # online dispute resolution: the business answers first, within the negotiation period from receipt
    "business_respond": ("complaint_handling", "business", "经营者答复", "business", "odr_negotiation", "received_at"),
}
# task id -> the expression saying an approved extension applies to its deadline
EXTENDED = {
    "verify_clue": "extension_approved",
    "decide_filing": "extension_approved",
    "investigate": "case_extension_approved",
}

# task id -> {field: (json type, required)}; choices below
FIELDS = {
    "review": {
        "decision": ("string", True),
        "reason": ("string", False),
        "transfer_to": ("string", False),
        "category": ("string", False),
        "ground": ("string", False),
        "violation_found": ("boolean", False),
        "violation_description": ("string", False),
    },
    "arrange_mediation": {
        "complainant_consent": ("boolean", True),
        "business_consent": ("boolean", True),
        "consent_how": ("string", True),
        "mediator": ("string", False),
        "mediator_agency": ("string", False),
    },
    "confirm_tracking": {"applied": ("boolean", True), "court": ("string", False), "confirmed": ("boolean", False)},
    "close": {"result": ("string", True)},
    "follow_up": {"satisfaction": ("string", True), "note": ("string", False)},
    "association_review": {"decision": ("string", True), "reason": ("string", False), "ground": ("string", False)},
    "reply": {"answer": ("string", True)},
    "association_reply": {"answer": ("string", True)},
    "verify_clue": {"decision": ("string", True), "reason": ("string", True)},
    "approve_extension": {"approved": ("boolean", True)},
    "decide_filing": {"decision": ("string", True), "reason": ("string", True)},
    "investigate": {"decision": ("string", True), "summary": ("string", False), "reason": ("string", False)},
    "approve_case_extension": {"approved": ("boolean", True)},
    "business_respond": {"response": ("string", True), "offer": ("string", False), "explanation": ("string", True)},
}
MEDIATION_FIELDS = {
    "outcome": ("string", True),
    "summary": ("string", True),
    "agreement_text": ("string", False),
    "violation_found": ("boolean", True),
    "violation_description": ("string", False),
}
for _task in ("mediate", "association_mediate", "committee_mediate"):
    FIELDS[_task] = MEDIATION_FIELDS

# the rejection grounds of Order 20 art. 15: code -> the title the form shows and the notice names
GROUNDS = {
    "not_competent": "不属于职责或无处理权限",
    "handled_elsewhere": "法院、仲裁、行政机关或调解组织已受理或处理",
    "not_consumer_dispute": "非生活消费或不能证明存在争议",
    "over_three_years": "超过三年",
    "missing_materials": "未提供规定材料",
    "other_legal": "法律法规规章规定的其他情形",
}

CHOICES = {
    ("review", "decision"): {"accept", "reject", "transfer"},
    ("review", "ground"): set(GROUNDS),
    ("association_review", "ground"): set(GROUNDS),
    ("arrange_mediation", "mediator"): {"self", "consumer_association", "mediation_committee"},
    ("follow_up", "satisfaction"): {"very_satisfied", "satisfied", "neutral", "dissatisfied"},
    ("association_review", "decision"): {"accept", "reject", "refer_to_regulator"},
    ("verify_clue", "decision"): {"file", "no_file", "extend"},
    ("decide_filing", "decision"): {"file", "no_file"},
    ("investigate", "decision"): {"penalty", "no_penalty", "transfer", "extend"},
    ("business_respond", "response"): {"settle", "dispute"},
    ("review", "category"): {
        "after_sales",
        "contract",
        "quality",
        "false_advertising",
        "price",
        "safety",
        "counterfeit",
        "personal_dignity",
        "measurement",
        "other",
    },
}
for _task in ("mediate", "association_mediate", "committee_mediate"):
    CHOICES[(_task, "outcome")] = {"agreement", "no_agreement", "withdrawn", "refused"}

# (task, valid sample, invalid sample): a field required only for some decisions (e.g. ``reason`` for a
# rejection or transfer)
REJECT = {"decision": "reject", "reason": "不属本机关管辖", "ground": "not_competent", "violation_found": False}
CONSENT = {"complainant_consent": True, "business_consent": True, "consent_how": "电话征求双方意见"}
CONDITIONALS = [
    ("review", {"decision": "accept"}, {"decision": "reject"}),
    ("review", REJECT, {"decision": "transfer", "reason": "经营地在临泉"}),
    ("review", REJECT, {**REJECT, "ground": None}),  # a rejection names its legal ground
    ("review", REJECT, {k: v for k, v in REJECT.items() if k != "ground"}),
    ("review", REJECT, {**REJECT, "ground": "too_late"}),
    ("review", REJECT, {k: v for k, v in REJECT.items() if k != "violation_found"}),
    (
        "review",
        {**REJECT, "violation_found": True, "violation_description": "无照经营"},
        {**REJECT, "violation_found": True},
    ),
    (
        "review",
        {"decision": "transfer", "reason": "经营地在临泉", "transfer_to": "lq-amr"},
        {"decision": "transfer", "transfer_to": "lq-amr"},
    ),
    ("arrange_mediation", {**CONSENT, "mediator": "self"}, {**CONSENT, "mediator": "consumer_association"}),
    (
        "arrange_mediation",
        {**CONSENT, "mediator": "mediation_committee", "mediator_agency": "th-pmc"},
        {**CONSENT, "mediator": "mediation_committee"},
    ),
    ("arrange_mediation", {**CONSENT, "mediator": "self"}, CONSENT),  # both consent: a mediator is chosen
    ("arrange_mediation", {**CONSENT, "business_consent": False}, {"mediator": "self"}),  # consent is recorded
    ("arrange_mediation", {**CONSENT, "complainant_consent": False}, {**CONSENT, "consent_how": ""}),
    ("association_review", {"decision": "accept"}, {"decision": "refer_to_regulator"}),
    (
        "association_review",
        {"decision": "reject", "reason": "超过时效", "ground": "over_three_years"},
        {"decision": "reject", "reason": "超过时效"},
    ),
    ("confirm_tracking", {"applied": False}, {"court": "太和县人民法院"}),
    ("follow_up", {"satisfaction": "neutral"}, {"satisfaction": "neutral", "score": 3}),
    ("verify_clue", {"decision": "extend", "reason": "需调取记录"}, {"decision": "extend"}),
    ("approve_extension", {"approved": True}, {"approved": "yes"}),
    ("decide_filing", {"decision": "no_file", "reason": "证据不足"}, {"decision": "extend", "reason": "再查"}),
    ("investigate", {"decision": "penalty", "summary": "罚款"}, {"decision": "fine", "summary": "罚款"}),
    ("investigate", {"decision": "transfer", "summary": "涉嫌犯罪"}, {"decision": "transfer"}),
    ("investigate", {"decision": "extend", "reason": "案情复杂"}, {"decision": "extend", "summary": "调查中"}),
    ("approve_case_extension", {"approved": False}, {"approved": "yes"}),
    (
        "business_respond",
        {"response": "settle", "offer": "全额退款", "explanation": "同意退货"},
        {"response": "settle", "explanation": "同意退货"},
    ),
    ("business_respond", {"response": "dispute", "explanation": "已过保修期"}, {"response": "dispute"}),
]
for _task in ("mediate", "association_mediate", "committee_mediate"):
    CONDITIONALS += [
        (
            _task,
            {"outcome": "refused", "summary": "商家拒绝调解", "violation_found": False},
            {"outcome": "agreement", "summary": "达成协议", "violation_found": False},
        ),
        (
            _task,
            {"outcome": "agreement", "summary": "达成协议", "agreement_text": "退款", "violation_found": False},
            {"outcome": "no_agreement", "summary": "未达成", "violation_found": True},
        ),
        (
            _task,
            {
                "outcome": "no_agreement",
                "summary": "未达成",
                "violation_found": True,
                "violation_description": "销售不合格产品",
            },
            {"outcome": "timeout", "summary": "未达成", "violation_found": False},
        ),
    ]

AGENCY = {
    "market_regulator": "competent_agency",
    "consumer_association": "mediator_agency",
    "mediation_committee": "mediator_agency",
    "case_conversion": "regulator_agency",
    "business": "business_party",
}
MEDIATION_TASKS = ("mediate", "association_mediate", "committee_mediate")


@pytest.fixture(scope="module", params=["complaint_handling", "case_conversion"])
def doc(request: pytest.FixtureRequest) -> etree._ElementTree:
    return etree.parse(str(WORKFLOWS / f"{request.param}.bpmn"))


@pytest.fixture(scope="module")
def docs() -> dict[str, etree._ElementTree]:
    return {name: etree.parse(str(WORKFLOWS / f"{name}.bpmn")) for name in ("complaint_handling", "case_conversion")}


def xp(node: etree._Element | etree._ElementTree, path: str) -> list:
    return node.xpath(path, namespaces=NS)


def one(node: etree._Element | etree._ElementTree, path: str) -> etree._Element:
    found = xp(node, path)
    assert len(found) == 1, f"{path}: {len(found)} matches"
    return found[0]


def props(el: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in xp(el, "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property")
    }


def by_id(docs: dict[str, etree._ElementTree], element_id: str) -> etree._Element:
    for d in docs.values():
        found = xp(d, f"//*[@id='{element_id}']")
        if found:
            return found[0]
    raise AssertionError(f"no element {element_id}")


def form_of(docs: dict[str, etree._ElementTree], task_id: str) -> dict:
    return json.loads(props(by_id(docs, task_id))["form"])


def flow_nodes(process: etree._Element) -> list[etree._Element]:
    return [el for el in process if etree.QName(el).localname in FLOW_NODES]


# --------------------------------------------------------------------------------------- structure
def test_namespaces_and_executable_processes(doc: etree._ElementTree) -> None:
    root = doc.getroot()
    assert root.tag == f"{{{NS['bpmn']}}}definitions"
    assert root.nsmap["spiffworkflow"] == NS["spiffworkflow"]
    processes = xp(doc, "//bpmn:process")
    assert processes
    assert all(p.get("isExecutable") == "true" for p in processes)


def test_complaint_handling_is_a_four_pool_collaboration(docs: dict[str, etree._ElementTree]) -> None:
    collab = one(docs["complaint_handling"], "//bpmn:collaboration")
    assert collab.get("id") == "complaint_handling"
    refs = [p.get("processRef") for p in xp(collab, "./bpmn:participant")]
    assert sorted(refs) == ["business", "consumer_association", "market_regulator", "mediation_committee"]
    process_ids = {p.get("id") for p in xp(docs["complaint_handling"], "//bpmn:process")}
    assert process_ids == set(refs)


def test_case_conversion_is_one_process_in_one_pool(docs: dict[str, etree._ElementTree]) -> None:
    processes = xp(docs["case_conversion"], "//bpmn:process")
    assert [p.get("id") for p in processes] == ["case_conversion"]
    assert [p.get("processRef") for p in xp(docs["case_conversion"], "//bpmn:participant")] == ["case_conversion"]


def test_every_process_declares_its_agency(docs: dict[str, etree._ElementTree]) -> None:
    seen = {}
    for d in docs.values():
        for process in xp(d, "//bpmn:process"):
            seen[process.get("id")] = props(process).get("agency")
    assert seen == AGENCY


def test_user_tasks_ids_names_pools(docs: dict[str, etree._ElementTree]) -> None:
    for name, d in docs.items():
        ids = {t.get("id") for t in xp(d, "//bpmn:userTask")}
        assert ids == {t for t, spec in USER_TASKS.items() if spec[0] == name}
    for task_id, (file, process, bpmn_name, *_) in USER_TASKS.items():
        task = one(docs[file], f"//bpmn:userTask[@id='{task_id}']")
        assert task.getparent().get("id") == process, task_id
        assert task.get("name") == bpmn_name, task_id


def test_lanes_name_roles_and_hold_every_node(doc: etree._ElementTree) -> None:
    lane_ids = [lane.get("id") for lane in xp(doc, "//bpmn:lane")]
    assert len(lane_ids) == len(set(lane_ids))
    for process in xp(doc, "//bpmn:process"):
        lanes = xp(process, "./bpmn:laneSet/bpmn:lane")
        assert lanes, process.get("id")
        assert {lane.get("name") for lane in lanes} <= ROLES
        refs = [r.text for lane in lanes for r in xp(lane, "./bpmn:flowNodeRef")]
        assert sorted(refs) == sorted(n.get("id") for n in flow_nodes(process)), process.get("id")


def test_user_tasks_sit_in_their_role_lane(docs: dict[str, etree._ElementTree]) -> None:
    for task_id, (file, _, _, role, *_) in USER_TASKS.items():
        lane = one(docs[file], f"//bpmn:lane[bpmn:flowNodeRef='{task_id}']")
        assert lane.get("name") == role, task_id


def test_single_message_start_event_per_pool(doc: etree._ElementTree) -> None:
    """SpiffWorkflow 3.2 loses the message starting a pool with several message start events."""
    for process in xp(doc, "//bpmn:process"):
        assert len(xp(process, "./bpmn:startEvent[bpmn:messageEventDefinition]")) <= 1, process.get("id")
    regulator = xp(doc, "//bpmn:process[@id='market_regulator']")
    if regulator:
        starts = xp(regulator[0], "./bpmn:startEvent")
        assert len(starts) == 1 and not xp(starts[0], "./*[contains(local-name(), 'EventDefinition')]")


# ------------------------------------------------------------------------------------------- forms
def test_forms_are_json_schemas_with_the_listed_fields(docs: dict[str, etree._ElementTree]) -> None:
    for task_id, fields in FIELDS.items():
        schema = form_of(docs, task_id)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert CJK.search(schema["title"]), task_id
        assert set(schema["properties"]) == set(fields), task_id
        assert set(schema["required"]) == {f for f, (_, req) in fields.items() if req}, task_id
        for field, (json_type, _) in fields.items():
            prop = schema["properties"][field]
            assert prop["type"] == json_type, (task_id, field)
            assert CJK.search(prop["title"]), (task_id, field)


def test_choices_use_one_of_const_with_chinese_titles(docs: dict[str, etree._ElementTree]) -> None:
    for (task_id, field), values in CHOICES.items():
        prop = form_of(docs, task_id)["properties"][field]
        assert "enum" not in prop, (task_id, field)
        assert {o["const"] for o in prop["oneOf"]} == values, (task_id, field)
        assert all(CJK.search(o["title"]) for o in prop["oneOf"]), (task_id, field)
    for task_id in USER_TASKS:
        for field, prop in form_of(docs, task_id)["properties"].items():
            if prop["type"] == "string" and "oneOf" in prop:
                assert (task_id, field) in CHOICES, f"undocumented choice {task_id}.{field}"


@pytest.mark.parametrize(("task_id", "good", "bad"), CONDITIONALS)
def test_conditional_requirements(docs: dict[str, etree._ElementTree], task_id: str, good: dict, bad: dict) -> None:
    validator = jsonschema.Draft202012Validator(form_of(docs, task_id))
    assert validator.is_valid(good), list(validator.iter_errors(good))
    assert not validator.is_valid(bad)


# --------------------------------------------------------------------------------------- deadlines
def test_deadline_rules(docs: dict[str, etree._ElementTree]) -> None:
    for task_id, (*_, rule, start) in USER_TASKS.items():
        p = props(by_id(docs, task_id))
        assert p.get("deadline") == rule, task_id
        assert p.get("deadline_from") == start, task_id
        assert p.get("deadline_extended") == EXTENDED.get(task_id), task_id
        assert set(p) <= {"form", "deadline", "deadline_from", "deadline_extended"}, task_id


def test_mediation_tasks_have_interrupting_mediation_timers(docs: dict[str, etree._ElementTree]) -> None:
    d = docs["complaint_handling"]
    for task_id in MEDIATION_TASKS:
        boundary = one(d, f"//bpmn:boundaryEvent[@attachedToRef='{task_id}']")
        assert boundary.get("cancelActivity", "true") == "true"
        time_date = one(boundary, "./bpmn:timerEventDefinition/bpmn:timeDate")
        assert time_date.text == 'due("mediation", accepted_at)'
        flow = one(d, f"//bpmn:sequenceFlow[@sourceRef='{boundary.get('id')}']")
        script = one(d, f"//bpmn:scriptTask[@id='{flow.get('targetRef')}']/bpmn:script")
        assert 'outcome = "timeout"' in script.text
    timer_names = [b.get("name") for b in xp(d, "//bpmn:boundaryEvent")]
    assert len(set(timer_names)) == len(timer_names) == 4  # Spiff matches timer events by name; 4th: ODR's end


# ---------------------------------------------------------------------------------------- messages
def test_message_events_carry_payload_or_variable(doc: etree._ElementTree) -> None:
    message_ids = {m.get("id"): m.get("name") for m in xp(doc, "//bpmn:message")}
    for med in xp(doc, "//bpmn:messageEventDefinition"):
        assert med.get("messageRef") in message_ids
        event = etree.QName(med.getparent()).localname
        ext = "messageVariable" if event in ("startEvent", "intermediateCatchEvent") else "messagePayload"
        assert xp(med, f"./bpmn:extensionElements/spiffworkflow:{ext}/text()"), (med.getparent().get("id"), ext)
    assert not xp(doc, "//bpmn:message/bpmn:extensionElements")  # deprecated place


def test_every_message_is_correlated_by_complaint_id(doc: etree._ElementTree) -> None:
    prop = one(doc, "//bpmn:correlationProperty[@id='complaint_id']")
    retrieved = {
        e.get("messageRef"): e.findtext("bpmn:messagePath", namespaces=NS)
        for e in xp(prop, "./bpmn:correlationPropertyRetrievalExpression")
    }
    assert retrieved == {m.get("id"): "complaint_id" for m in xp(doc, "//bpmn:message")}
    key = one(doc, "//bpmn:collaboration/bpmn:correlationKey")
    assert xp(key, "./bpmn:correlationPropertyRef/text()") == ["complaint_id"]


def _thrown(d: etree._ElementTree, message: str) -> list[etree._Element]:
    ref = one(d, f"//bpmn:message[@name='{message}']").get("id")
    return [
        m.getparent()
        for m in xp(d, f"//bpmn:messageEventDefinition[@messageRef='{ref}']")
        if etree.QName(m.getparent()).localname in ("intermediateThrowEvent", "endEvent")
    ]


def test_violation_clue_leaves_every_mediating_pool_and_reports(docs: dict[str, etree._ElementTree]) -> None:
    d = docs["complaint_handling"]
    throwers = _thrown(d, "violation_clue")
    assert {t.getparent().get("id") for t in throwers} == set(AGENCY) - {"case_conversion", "business"}
    assert len(throwers) == 5  # regulator mediation, rejection, report, association, committee
    caught = xp(
        d, "//bpmn:startEvent/bpmn:messageEventDefinition | //bpmn:intermediateCatchEvent/bpmn:messageEventDefinition"
    )
    clue_ref = one(d, "//bpmn:message[@name='violation_clue']").get("id")
    assert all(c.get("messageRef") != clue_ref for c in caught)
    for thrower in throwers:
        payload = xp(thrower, ".//spiffworkflow:messagePayload/text()")[0]
        for key in ("complaint_id", "description", "regulator_agency", "received_at", "real_name", "tracking_no"):
            assert f'"{key}":' in payload, (thrower.get("id"), key)
    for task_id in MEDIATION_TASKS:
        gateway = one(d, f"//bpmn:sequenceFlow[@sourceRef='{task_id}']").get("targetRef")
        conditioned = xp(d, f"//bpmn:sequenceFlow[@sourceRef='{gateway}'][bpmn:conditionExpression='violation_found']")
        assert len(conditioned) == 1 and conditioned[0].get("targetRef") in {t.get("id") for t in throwers}


def test_case_conversion_starts_on_violation_clue(docs: dict[str, etree._ElementTree]) -> None:
    d = docs["case_conversion"]
    start = one(d, "//bpmn:process/bpmn:startEvent")
    med = one(start, "./bpmn:messageEventDefinition")
    assert one(d, f"//bpmn:message[@id='{med.get('messageRef')}']").get("name") == "violation_clue"
    scripts = " ".join(xp(d, "//bpmn:script/text()"))
    for call in ("file_case()", "close_case(decision)", '"case_filed"', '"case_not_filed"'):
        assert call in scripts


def test_message_flows_join_different_pools(docs: dict[str, etree._ElementTree]) -> None:
    d = docs["complaint_handling"]
    flows = xp(d, "//bpmn:messageFlow")
    assert flows
    messages = {m.get("id"): m.get("name") for m in xp(d, "//bpmn:message")}
    for mf in flows:
        source, target = by_id(docs, mf.get("sourceRef")), by_id(docs, mf.get("targetRef"))
        assert source.getparent().get("id") != target.getparent().get("id")
        assert messages[mf.get("messageRef")] == mf.get("name")
    covered = {messages[mf.get("messageRef")] for mf in flows}
    # a violation clue goes to another file's process; the complainant's answer to an offer comes from outside
    assert covered == set(messages.values()) - {"violation_clue", "odr_decision"}


def test_complainant_is_notified(docs: dict[str, etree._ElementTree]) -> None:
    scripts = " ".join(xp(docs["complaint_handling"], "//bpmn:script/text()"))
    for template in (
        "acceptance",
        "rejection",
        "transfer",
        "termination",
        "agreement",
        "association_acceptance",
        "referral",
        "not_mediated",
    ):
        assert f'notify_complainant("{template}"' in scripts, template


def test_exclusive_choices_are_conditioned(doc: etree._ElementTree) -> None:
    for gateway in xp(doc, "//bpmn:exclusiveGateway"):
        outgoing = xp(doc, f"//bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']")
        if len(outgoing) < 2:
            continue
        for flow in outgoing:
            if flow.get("id") != gateway.get("default"):
                assert xp(flow, "./bpmn:conditionExpression/text()"), flow.get("id")


# ------------------------------------------------------------------------------------------ diagram
def _bounds(doc: etree._ElementTree) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for shape in xp(doc, "//bpmndi:BPMNShape"):
        b = one(shape, "./dc:Bounds")
        out[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    return out


def _inside(inner: tuple, outer: tuple) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def test_every_element_has_a_shape_or_edge(doc: etree._ElementTree) -> None:
    plane = one(doc, "//bpmndi:BPMNPlane")
    assert plane.get("bpmnElement") == one(doc, "//bpmn:collaboration").get("id")
    shapes = _bounds(doc)
    edges = {e.get("bpmnElement"): xp(e, "./di:waypoint") for e in xp(doc, "//bpmndi:BPMNEdge")}
    needs_shape = [e.get("id") for e in xp(doc, "//bpmn:participant | //bpmn:lane")]
    for process in xp(doc, "//bpmn:process"):
        needs_shape += [n.get("id") for n in flow_nodes(process)]
    assert sorted(needs_shape) == sorted(shapes)
    needs_edge = [f.get("id") for f in xp(doc, "//bpmn:sequenceFlow | //bpmn:messageFlow")]
    assert sorted(needs_edge) == sorted(edges)
    assert all(len(points) >= 2 for points in edges.values())


def test_shapes_nest_and_do_not_overlap(doc: etree._ElementTree) -> None:
    shapes = _bounds(doc)
    pools = {p.get("processRef"): shapes[p.get("id")] for p in xp(doc, "//bpmn:participant")}
    pool_boxes = sorted(pools.values(), key=lambda b: b[1])
    for upper, lower in itertools.pairwise(pool_boxes):
        assert upper[1] + upper[3] <= lower[1], "pools overlap"
    for process in xp(doc, "//bpmn:process"):
        for lane in xp(process, "./bpmn:laneSet/bpmn:lane"):
            assert _inside(shapes[lane.get("id")], pools[process.get("id")]), lane.get("id")
            for ref in xp(lane, "./bpmn:flowNodeRef/text()"):
                node = by_id({"d": doc}, ref)
                if etree.QName(node).localname == "boundaryEvent":
                    continue
                assert _inside(shapes[ref], shapes[lane.get("id")]), ref
        nodes = [n.get("id") for n in flow_nodes(process) if etree.QName(n).localname != "boundaryEvent"]
        for i, a in enumerate(nodes):
            ax, ay, aw, ah = shapes[a]
            for b in nodes[i + 1 :]:
                bx, by, bw, bh = shapes[b]
                assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, b)
    for boundary in xp(doc, "//bpmn:boundaryEvent"):
        bx, by, bw, bh = shapes[boundary.get("id")]
        hx, hy, hw, hh = shapes[boundary.get("attachedToRef")]
        assert hx <= bx + bw / 2 <= hx + hw and by <= hy + hh <= by + bh, boundary.get("id")


# ------------------------------------------------------------------------------- case conversion
def _lane_of(d: etree._ElementTree, node_id: str) -> str:
    return str(one(d, f"//bpmn:lane[bpmn:flowNodeRef='{node_id}']").get("name"))


def _sources(d: etree._ElementTree, node_id: str) -> list[etree._Element]:
    return [by_id({"d": d}, f.get("sourceRef")) for f in xp(d, f"//bpmn:sequenceFlow[@targetRef='{node_id}']")]


def test_filing_follows_only_the_heads_decision(docs: dict[str, etree._ElementTree]) -> None:
    """Enforcement verifies and proposes; the head (负责人, supervisor lane) decides filing."""
    d = docs["case_conversion"]
    filing = one(d, "//bpmn:scriptTask[bpmn:script[contains(text(), 'file_case()')]]")
    [gateway] = _sources(d, filing.get("id"))
    [decider] = _sources(d, gateway.get("id"))
    assert decider.get("id") == "decide_filing" and _lane_of(d, "decide_filing") == "supervisor"
    [proposal] = _sources(d, "decide_filing")
    assert [s.get("id") for s in _sources(d, proposal.get("id"))] == ["verify_clue"]


def test_every_extension_is_approved_by_the_head(docs: dict[str, etree._ElementTree]) -> None:
    """Each ``deadline_extended`` variable is set from a supervisor-lane approval, else only to False."""
    d = docs["case_conversion"]

    def assignments(variable: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for script in xp(d, "//bpmn:scriptTask"):
            for line in script.findtext("bpmn:script", "", NS).splitlines():
                name, _, value = line.partition(" = ")
                if name.strip() == variable:
                    found.setdefault(script.get("id"), set()).add(value.strip())
        return found

    for variable, approval in (("extension_approved", "approve_extension"),
                               ("case_extension_approved", "approve_case_extension")):
        found = assignments(variable)
        [setter] = [task for task, values in found.items() if values == {"approved"}]
        assert [s.get("id") for s in _sources(d, setter)] == [approval]
        assert _lane_of(d, approval) == "supervisor"
        assert all(values == {"False"} for task, values in found.items() if task != setter), variable


def test_a_reports_clue_counts_from_receipt(docs: dict[str, etree._ElementTree]) -> None:
    scripts = " ".join(xp(docs["case_conversion"], "//bpmn:script/text()"))
    assert 'clue_at = received_at if source == "report" else now()' in scripts


def test_filing_notices_go_to_real_name_parties_only(docs: dict[str, etree._ElementTree]) -> None:
    d = docs["case_conversion"]
    for template in ("case_filed", "case_not_filed"):
        notify = one(d, f"//bpmn:scriptTask[bpmn:script[contains(text(), '\"{template}\"')]]")
        assert "source=source" in notify.findtext("bpmn:script", "", NS), template
        [gateway] = _sources(d, notify.get("id"))
        flow = one(d, f"//bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}'][@targetRef='{notify.get('id')}']")
        assert xp(flow, "./bpmn:conditionExpression/text()") == ["real_name"], template
        assert gateway.get("default") != flow.get("id")


# ------------------------------------------------------------------- grounds, consent, statuses
LIFECYCLE = {"registered", "negotiating", "pending_acceptance", "accepted", "transferred", "rejected", "mediating",
             "settled", "agreement", "terminated", "not_mediated", "closed", "in_progress"}


def test_rejection_grounds_have_the_same_words_in_form_and_notice(docs: dict[str, etree._ElementTree]) -> None:
    for task_id, notifier in (("review", "notify_rejection"), ("association_review", "association_notify_rejection")):
        options = form_of(docs, task_id)["properties"]["ground"]["oneOf"]
        assert {o["const"]: o["title"] for o in options} == GROUNDS, task_id
        flow = one(docs["complaint_handling"], f"//bpmn:sequenceFlow[@targetRef='{notifier}']")
        assert flow.findtext("bpmn:conditionExpression", namespaces=NS) == 'decision == "reject"'
        text = one(by_id(docs, notifier), "./bpmn:script").text
        for code, title in GROUNDS.items():
            assert f'"{code}": "{title}"' in text, (notifier, code)
        assert "ground_label=ground_label" in text and 'notify_complainant("rejection"' in text


def test_a_rejection_can_send_a_violation_clue(docs: dict[str, etree._ElementTree]) -> None:
    d = docs["complaint_handling"]
    gateway = one(d, "//bpmn:sequenceFlow[@sourceRef='notify_rejection']").get("targetRef")
    [to_clue] = xp(d, f"//bpmn:sequenceFlow[@sourceRef='{gateway}'][bpmn:conditionExpression='violation_found']")
    assert to_clue.get("targetRef") in {t.get("id") for t in _thrown(d, "violation_clue")}


def test_mediation_needs_both_consents(docs: dict[str, etree._ElementTree]) -> None:
    d = docs["complaint_handling"]
    gateway = by_id(docs, one(d, "//bpmn:sequenceFlow[@sourceRef='arrange_mediation']").get("targetRef"))
    flows = xp(d, f"//bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']")
    [consented] = [f for f in flows if f.get("id") != gateway.get("default")]
    assert consented.findtext("bpmn:conditionExpression", namespaces=NS) == "complainant_consent and business_consent"
    refused = by_id(docs, one(d, f"//bpmn:sequenceFlow[@id='{gateway.get('default')}']").get("targetRef"))
    text = one(refused, "./bpmn:script").text
    assert 'complaint_status = "not_mediated"' in text and 'notify_complainant("not_mediated"' in text
    assert "mediation_ended_at = now()" in text  # the close task counts its deadline from it


def test_scripts_set_only_lifecycle_statuses(docs: dict[str, etree._ElementTree]) -> None:
    scripts = "\n".join(xp(docs["complaint_handling"], "//bpmn:script/text()"))
    assignments = " ".join(re.findall(r"complaint_status = [^\n]+", scripts))
    set_here = set(re.findall(r'(?<!== )"([a-z_]+)"', assignments))  # the values, not what they are chosen by
    assert set_here <= LIFECYCLE
    assert {"pending_acceptance", "accepted", "transferred", "rejected", "mediating", "agreement", "terminated",
            "not_mediated"} <= set_here
