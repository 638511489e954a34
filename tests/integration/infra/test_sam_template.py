"""The SAM template's structure: what cfn-lint cannot know about our layout and our rules."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from local.infra import ROOT, Intrinsic, functions, load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = functions(TEMPLATE)


def test_globals_target_python312_on_arm64_with_tracing_and_json_logs():
    glob = TEMPLATE["Globals"]["Function"]
    assert glob["Runtime"] == "python3.12"
    assert glob["Architectures"] == ["arm64"]
    assert glob["Tracing"] == "Active"
    assert glob["LoggingConfig"]["LogFormat"] == "JSON"
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"} <= set(glob["Environment"]["Variables"])


def test_every_function_is_a_folder_with_app_py_and_a_sample_event():
    assert {f["folder"] for f in FUNCTIONS.values()} == {
        "webhook",
        "api",
        "tagger",
        "metrics",
        "dispatcher",
        "sender",
        "scheduler",
    }
    for logical, fn in FUNCTIONS.items():
        assert fn["props"]["CodeUri"] == f"../functions/{fn['folder']}/", logical
        assert (ROOT / "functions" / fn["folder"] / "app.py").is_file(), logical
        assert list((ROOT / "events" / fn["folder"]).glob("*.json")), f"no events/{fn['folder']}/*.json"


def test_layer_is_built_by_makefile_from_a_path_relative_to_the_template(tmp_path: Path):
    layer = RESOURCES["CommonLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "../layers/common/"
    assert (ROOT / "infra" / layer["Properties"]["ContentUri"] / "requirements.txt").resolve().is_file()
    # The artifact must hold python/engage (what Lambda mounts at /opt/python), never python/python.
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "layers/common"), "copy-code", f"ARTIFACTS_DIR={tmp_path}"], check=True
    )
    assert (tmp_path / "python" / "engage" / "__init__.py").is_file()
    assert not (tmp_path / "python" / "python").exists()
    makefile = (ROOT / "layers/common/Makefile").read_text()
    assert re.search(r"^build-CommonLayer:", makefile, re.M)


def _walk(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    elif isinstance(value, Intrinsic):
        yield from _walk(value.value)
    else:
        yield value


def test_policies_are_per_function_and_never_a_wildcard():
    for logical, fn in FUNCTIONS.items():
        policies = fn["props"].get("Policies")
        assert policies, f"{logical} has no policies of its own"
        assert "Role" not in fn["props"], f"{logical} shares a role"
        assert "*" not in [v for v in _walk(policies) if isinstance(v, str)], logical


def test_secrets_are_ssm_references_not_values():
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    for name in ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN", "EVENTS_WEBHOOK_SECRET"):
        value = env[name]
        assert isinstance(value, Intrinsic) and value.value.startswith("ssm:/engage/"), name


def _event_sources(kind: str):
    for logical, fn in FUNCTIONS.items():
        for name, event in fn["events"].items():
            if event["Type"] == kind:
                yield logical, fn, name, event["Properties"]


def test_queues_outlast_their_consumers_and_report_partial_failures():
    timeout_default = TEMPLATE["Globals"]["Function"]["Timeout"]
    found = 0
    for _, fn, _, props in _event_sources("SQS"):
        found += 1
        queue = RESOURCES[props["Queue"].value.split(".")[0]]["Properties"]
        timeout = fn["props"].get("Timeout", timeout_default)
        assert queue["VisibilityTimeout"] >= 6 * timeout
        assert "RedrivePolicy" in queue
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert found >= 3


def test_sender_concurrency_is_bounded_by_the_event_source():
    props = FUNCTIONS["SenderFunction"]["events"]["SendJobs"]["Properties"]
    assert props["ScalingConfig"]["MaximumConcurrency"].value == "SenderMaxConcurrency"
    param = TEMPLATE["Parameters"]["SenderMaxConcurrency"]
    assert 2 <= param["MinValue"] <= param["Default"] <= param["MaxValue"] <= 1000


def test_stream_consumers_retry_bisect_and_keep_what_they_give_up_on():
    consumers = list(_event_sources("DynamoDB"))
    assert {logical for logical, *_ in consumers} == {"TaggerFunction", "MetricsFunction"}  # at most 2 per stream
    for _, _, _, props in consumers:
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert props["MaximumRetryAttempts"] >= 1
        assert props["DestinationConfig"]["OnFailure"]["Type"] == "SQS"


def test_table_has_stream_ttl_pitr_and_the_indexes_the_adapters_use():
    props = RESOURCES["EngageTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert {g["IndexName"] for g in props["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}


def _routes():
    for _, fn, _, props in _event_sources("HttpApi"):
        auth = props.get("Auth", {}).get("Authorizer")
        yield fn["folder"], props["Method"], props["Path"], auth


def test_marketer_routes_need_the_jwt_authorizer_and_public_ones_are_explicit():
    auth = RESOURCES["HttpApi"]["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == "CognitoJwt"
    public = {(m, p) for _, m, p, a in _routes() if a == "NONE"}
    assert public == {
        ("GET", "/webhook"),
        ("POST", "/webhook"),
        ("GET", "/r/{code}"),
        ("HEAD", "/r/{code}"),
        ("POST", "/v1/events"),
        ("GET", "/openapi.json"),
        ("GET", "/v1/openapi.json"),
        ("GET", "/docs"),
    }
    assert all("{proxy+}" not in p for _, _, p, _ in _routes())


@pytest.mark.parametrize("method,path", [(m, p) for f, m, p, _ in _routes() if f == "api"])
def test_every_api_route_in_the_template_is_served_by_the_api_function(method, path):
    from functions.api.app import app

    concrete = re.sub(r"\{[^}]+\}", "x1", path)
    routes = [r for r in app._dynamic_routes + app._static_routes if method in r.method]
    assert any(r.rule.match(concrete) for r in routes), f"{method} {path} has no handler"


def test_schedules_name_their_job_and_pass_the_scheduled_time():
    import json

    from engage.schedules import JOBS

    for _, _, _, props in _event_sources("ScheduleV2"):
        payload = json.loads(props["Input"])
        assert payload["now"] == "<aws.scheduler.scheduled-time>"
        assert payload["schedule"] in JOBS
