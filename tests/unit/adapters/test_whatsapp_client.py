"""The WhatsApp client's wire format and result parsing, over httpx.MockTransport (no sockets)."""

from __future__ import annotations

import json

import httpx

from engage.adapters.whatsapp import WhatsAppClient
from engage.core.settings import WhatsAppSettings
from engage.delivery.outbound import ButtonParam, Outbound

SETTINGS = WhatsAppSettings(
    WHATSAPP_ACCESS_TOKEN="token",
    WHATSAPP_PHONE_NUMBER_ID="800000000000002",
    WHATSAPP_API_BASE="https://graph.test/v25.0",
)


def client(handler) -> WhatsAppClient:
    return WhatsAppClient(SETTINGS, http=httpx.Client(transport=httpx.MockTransport(handler)))


def test_a_template_is_posted_with_components_callback_data_and_bearer_token():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"], seen["auth"], seen["body"] = (
            str(request.url),
            request.headers["authorization"],
            json.loads(request.content),
        )
        return httpx.Response(
            200,
            json={"messaging_product": "whatsapp", "contacts": [{"input": "+4915123456789", "wa_id": "4915123456789"}],
                  "messages": [{"id": "wamid.1", "message_status": "accepted"}]},
        )  # fmt: skip

    message = Outbound(
        to="4915123456789",
        kind="template",
        template="winter",
        language="de",
        body=["Asha"],
        buttons=[ButtonParam(index=1, value="r/abc")],
        header_image="https://img.test/a.jpg",
        callback_data="c_1|cmp_1",
    )
    result = client(handler).send(message)
    assert (
        result.ok
        and result.wamid == "wamid.1"
        and result.wa_id == "4915123456789"
        and result.message_status == "accepted"
    )
    assert seen["url"] == "https://graph.test/v25.0/800000000000002/messages"
    assert seen["auth"] == "Bearer token"
    body = seen["body"]
    assert body["biz_opaque_callback_data"] == "c_1|cmp_1" and body["to"] == "4915123456789"
    components = body["template"]["components"]
    assert components[0]["parameters"][0]["image"]["link"] == "https://img.test/a.jpg"
    assert components[1] == {"type": "body", "parameters": [{"type": "text", "text": "Asha"}]}
    assert components[2] == {
        "type": "button",
        "sub_type": "url",
        "index": "1",
        "parameters": [{"type": "text", "text": "r/abc"}],
    }


def test_a_graph_error_is_parsed_into_code_details_status_and_trace():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={"error": {"message": "(#131050) stopped", "type": "OAuthException", "code": 131050,
                            "error_data": {"messaging_product": "whatsapp", "details": "user stopped"},
                            "fbtrace_id": "Abc"}},
        )  # fmt: skip

    result = client(handler).send(Outbound(to="4915123456789", kind="text", text="hi"))
    assert not result.ok
    assert (result.error.code, result.error.details, result.error.http_status, result.error.fbtrace_id) == (
        131050, "user stopped", 400, "Abc",
    )  # fmt: skip


def test_a_read_timeout_is_an_unknown_outcome_but_a_connect_error_is_not():
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert client(timeout).send(Outbound(to="1", kind="text", text="x")).unknown is True
    not_sent = client(refused).send(Outbound(to="1", kind="text", text="x"))
    assert not_sent.unknown is False and not_sent.transport_error and not_sent.error is None


def test_a_5xx_without_a_body_is_a_retryable_error():
    result = client(lambda request: httpx.Response(502, text="bad gateway")).send(
        Outbound(to="1", kind="text", text="x")
    )
    assert result.error is not None and result.error.http_status == 502 and result.error.code == 131000
