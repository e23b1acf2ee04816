"""Multipart `$batch` bodies: requests encoded as Dataverse expects, answers decoded by the email package."""

from __future__ import annotations

import json

from bot.connectors.multipart import PartRequest, decode_batch, encode_batch

BOUNDARY = "batch_0001"
API = "https://org.example.test/api/data/v9.2"

ANSWER = (
    b"--batchresponse_77\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"\r\n"
    b"HTTP/1.1 201 Created\r\n"
    b"Content-Type: application/json; odata.metadata=minimal\r\n"
    b"OData-Version: 4.0\r\n"
    b"\r\n"
    b'{"@odata.etag":"W/\\"1\\"","accountid":"a1","name":"Caf\xc3\xa9"}\r\n'
    b"--batchresponse_77\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"\r\n"
    b"HTTP/1.1 204 No Content\r\n"
    b"OData-Version: 4.0\r\n"
    b"OData-EntityId: https://org.example.test/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000002)\r\n"
    b"\r\n"
    b"\r\n"
    b"--batchresponse_77\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"\r\n"
    b"HTTP/1.1 403 Forbidden\r\n"
    b"Content-Type: application/json; odata.metadata=minimal\r\n"
    b"\r\n"
    b'{"error":{"code":"0x80040220","message":"is missing prvWriteAccount privilege"}}\r\n'
    b"--batchresponse_77--\r\n"
)


def test_encode_independent_requests() -> None:
    body = encode_batch(
        [
            PartRequest("POST", f"{API}/accounts", {"Prefer": "return=representation"}, {"name": "Café"}),
            PartRequest("DELETE", f"{API}/accounts(a1)", {"If-Match": "*"}),
        ],
        BOUNDARY,
    ).decode()
    parts = body.split(f"--{BOUNDARY}")
    assert parts[0] == "" and parts[-1] == "--\r\n"
    create, delete = parts[1], parts[2]
    assert "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" in create
    assert f"POST {API}/accounts HTTP/1.1\r\n" in create
    assert "Content-Type: application/json; type=entry\r\n" in create
    payload = json.dumps({"name": "Café"}, separators=(",", ":"))
    assert f"Content-Length: {len(payload)}\r\n\r\n{payload}\r\n" in create
    assert f"DELETE {API}/accounts(a1) HTTP/1.1\r\nIf-Match: *\r\n\r\n" in delete
    assert "changeset" not in body


def test_decode_answers_in_order() -> None:
    answers = decode_batch("multipart/mixed; boundary=batchresponse_77", ANSWER)
    assert [answer.status for answer in answers] == [201, 204, 403]
    assert json.loads(answers[0].content)["name"] == "Café"
    assert answers[0].headers["content-type"].startswith("application/json")
    assert answers[1].content == b""
    assert answers[1].headers["OData-EntityId"].endswith("(00000000-0000-0000-0000-000000000002)")
    assert answers[2].reason == "Forbidden"
    assert json.loads(answers[2].content)["error"]["code"] == "0x80040220"


def test_decode_flattens_change_sets() -> None:
    inner = (
        b"--changesetresponse_1\r\n"
        b"Content-Type: application/http\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"Content-ID: 1\r\n"
        b"\r\n"
        b"HTTP/1.1 204 No Content\r\n"
        b"\r\n"
        b"\r\n"
        b"--changesetresponse_1--\r\n"
    )
    outer = (
        b"--batchresponse_9\r\n"
        b"Content-Type: multipart/mixed; boundary=changesetresponse_1\r\n"
        b"\r\n" + inner + b"--batchresponse_9--\r\n"
    )
    answers = decode_batch('multipart/mixed; boundary="batchresponse_9"', outer)
    assert [(answer.status, answer.content_id) for answer in answers] == [(204, "1")]


def test_decode_accepts_bare_line_feeds_folded_headers_and_content_ids() -> None:
    answer = (
        b"--b1\n"
        b"Content-Type: application/http\n"
        b"Content-ID: 7\n"
        b"\n"
        b"HTTP/1.1 412 Precondition Failed\n"
        b"Content-Type: application/json;\n"
        b"  odata.metadata=minimal\n"
        b"\n"
        b'{"error":{"code":"0x80060882","message":"stale"}}\n'
        b"--b1--\n"
    )
    (part,) = decode_batch('multipart/mixed; boundary="b1"', answer)
    assert (part.status, part.reason, part.content_id) == (412, "Precondition Failed", "7")
    assert part.headers["Content-Type"] == "application/json; odata.metadata=minimal"
    assert part.content == b'{"error":{"code":"0x80060882","message":"stale"}}'


def test_decode_without_a_boundary_is_empty() -> None:
    assert decode_batch("application/json", b'{"value": []}') == []
