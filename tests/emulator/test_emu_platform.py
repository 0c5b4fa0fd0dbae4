"""Moonshot platform endpoints: models, files, token estimate, balance (through kimi_core)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emu_helpers import HTTP, headers

import kimi_core as kc
from kimi_emulator import KimiEmulator


@pytest.fixture
def client(moonshot: KimiEmulator) -> kc.KimiClient:
    return kc.KimiClient(provider="moonshot", base_url=moonshot.base_url, api_key=moonshot.api_key)


#: What ``GET /v1/models`` on api.moonshot.ai served on 2026-09-02 (docs/kimi-platform.md §11, from
#: chatcli#1344 and models.dev PR #6101): written here from the source, not read from the
#: emulator's table or from kimi_core's catalogue.
SERVED_2026_09_02 = ["kimi-k2.6", "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k3"]


def test_list_models(client: kc.KimiClient) -> None:
    listed = client.list_models()
    assert sorted(m["id"] for m in listed) == SERVED_2026_09_02
    models = {m["id"]: m for m in listed}
    for m in listed:
        assert m["object"] == "model"  # docs/kimi-platform.md §10: id, object, created, owned_by
        assert isinstance(m["created"], int) and m["owned_by"]
    assert models["kimi-k2.6"]["context_length"] == 262_144
    assert models["kimi-k3"]["context_length"] >= 1_000_000  # "1M tokens"
    assert models["kimi-k2.6"]["supports_image_in"] is True
    assert all(m["supports_reasoning"] for m in listed)  # the whole 2026 line thinks


def test_list_models_follows_the_served_ids(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory("moonshot", models=["kimi-k3", "moonshot-v1-8k"])
    resp = HTTP.get(emu.base_url + "/models", headers=headers(emu)).json()
    by_id = {m["id"]: m for m in resp["data"]}
    assert set(by_id) == {"kimi-k3", "moonshot-v1-8k"}
    assert by_id["moonshot-v1-8k"]["context_length"] == 8192
    assert by_id["moonshot-v1-8k"]["supports_reasoning"] is False


def test_files_lifecycle(moonshot: KimiEmulator, client: kc.KimiClient) -> None:
    uploaded = client.upload_file(b"Kimi reads this file.", filename="notes.txt")
    assert uploaded["object"] == "file"
    assert uploaded["bytes"] == len(b"Kimi reads this file.")
    assert uploaded["filename"] == "notes.txt"
    assert uploaded["purpose"] == "file-extract"
    assert uploaded["status"] == "ok"
    fid = uploaded["id"]
    assert [f["id"] for f in client.list_files()] == [fid]
    assert client.get_file(fid) == uploaded
    content = json.loads(client.file_content(fid))
    assert content["content"] == "Kimi reads this file."
    assert content["filename"] == "notes.txt"
    assert moonshot.files[fid]["bytes"] == uploaded["bytes"]
    assert client.delete_file(fid) == {"id": fid, "object": "file", "deleted": True}
    assert client.list_files() == []
    with pytest.raises(kc.NotFoundError, match=f"file {fid} not found"):
        client.get_file(fid)


def test_file_upload_rules(moonshot: KimiEmulator, client: kc.KimiClient) -> None:
    with pytest.raises(kc.BadRequestError, match="invalid purpose"):
        client.upload_file(b"x", filename="a.txt", purpose="fine-tune")
    image = client.upload_file(b"\x89PNG\x00\x01", filename="a.png", purpose="image")
    assert image["purpose"] == "image"
    raw = HTTP.get(f"{moonshot.base_url}/files/{image['id']}/content", headers=headers(moonshot))
    assert raw.content == b"\x89PNG\x00\x01"


def test_upload_needs_multipart(moonshot: KimiEmulator) -> None:
    resp = HTTP.post(moonshot.base_url + "/files", json={"file": "x"}, headers=headers(moonshot))
    assert resp.status_code == 400
    assert "multipart" in resp.json()["error"]["message"]


def test_estimate_token_count(client: kc.KimiClient) -> None:
    short = client.estimate_token_count("kimi-k2.6", [{"role": "user", "content": "Hi"}])
    longer = client.estimate_token_count(
        "kimi-k2.6", [{"role": "user", "content": "Hi, how are you doing today?"}]
    )
    assert 0 < short < longer
    with pytest.raises(kc.NotFoundError):
        client.estimate_token_count("nope-model", [{"role": "user", "content": "Hi"}])


def test_balance(moonshot: KimiEmulator, client: kc.KimiClient) -> None:
    balance = client.balance()
    assert set(balance) == {"available_balance", "voucher_balance", "cash_balance"}
    moonshot.balance = {"available_balance": 0.0, "voucher_balance": 0.0, "cash_balance": -1.5}
    assert client.balance()["cash_balance"] == -1.5
    moonshot.reset()
    assert client.balance()["cash_balance"] > 0


def test_platform_endpoints_need_auth(moonshot: KimiEmulator) -> None:
    assert HTTP.get(moonshot.base_url + "/users/me/balance").status_code == 401
    assert HTTP.get(moonshot.base_url + "/files").status_code == 401
