"""Record a cassette of ChatKimi talking to a real provider (or any base URL).

    MOONSHOT_API_KEY=sk-... python cassettes/record.py moonshot_k26_hello \\
        --provider moonshot --model kimi-k2.6 --prompt "Hello" [--stream] [--base-url URL]

writes ``cassettes/<name>.yaml`` with one ``invoke`` (or ``stream``) interaction, headed by
a comment that says where it came from. Secrets never reach the file: the request's
``Authorization`` header (and any other credential header) is dropped, cookies are
dropped, and the key is replaced by ``<filtered>`` wherever else it might appear. The
tests use :func:`kimi_vcr` to replay cassettes (``record_mode="none"``: no network).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path
from typing import Any

import vcr

CASSETTES = Path(__file__).resolve().parent
#: Headers that can carry credentials; never written to a cassette.
SECRET_HEADERS = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "set-cookie",
)
#: Requests match on everything but headers (which carry the key and a user agent).
MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "body")
FILTERED = "<filtered>"


def _scrubber(secrets: list[str]) -> Any:
    def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers") or {}
        for name in list(headers):
            if name.lower() in SECRET_HEADERS:
                del headers[name]
        body = response.get("body") or {}
        data = body.get("string")
        for secret in secrets:
            if isinstance(data, bytes) and secret.encode() in data:
                data = data.replace(secret.encode(), FILTERED.encode())
            elif isinstance(data, str) and secret in data:
                data = data.replace(secret, FILTERED)
        if data is not None:
            body["string"] = data
        return response

    return scrub_response


def _request_scrubber(secrets: list[str]) -> Any:
    def scrub_request(request: Any) -> Any:
        body = request.body
        for secret in secrets:
            if isinstance(body, bytes) and secret.encode() in body:
                body = body.replace(secret.encode(), FILTERED.encode())
            elif isinstance(body, str) and secret in body:
                body = body.replace(secret, FILTERED)
        request.body = body
        return request

    return scrub_request


def kimi_vcr(
    record_mode: str = "none",
    cassette_dir: Path | str = CASSETTES,
    secrets: list[str] | None = None,
) -> vcr.VCR:
    """A ``vcr.VCR`` for Kimi cassettes: credential headers filtered, ``secrets``
    scrubbed from bodies, requests matched on method, URL and (JSON) body."""
    found = [s for s in (secrets or []) if s]
    return vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        record_mode=record_mode,
        match_on=list(MATCH_ON),
        filter_headers=list(SECRET_HEADERS),
        before_record_request=_request_scrubber(found),
        before_record_response=_scrubber(found),
        decode_compressed_response=True,
    )


def record(
    name: str,
    *,
    provider: str | None,
    model: str,
    prompt: str,
    stream: bool = False,
    base_url: str | None = None,
    api_key: str | None = None,
    cassette_dir: Path | str = CASSETTES,
) -> Path:
    """Record one exchange into ``<cassette_dir>/<name>.yaml``; return the path."""
    from langchain_kimi import ChatKimi

    chat = ChatKimi(
        model=model, provider=provider, base_url=base_url, api_key=api_key, max_retries=0
    )
    key = chat.api_key.get_secret_value() if chat.api_key is not None else ""
    path = Path(cassette_dir) / f"{name}.yaml"
    if path.exists():
        raise SystemExit(f"{path} exists; delete it first to record it again")
    with kimi_vcr("once", cassette_dir, secrets=[key]).use_cassette(path.name):
        if stream:
            for _ in chat.stream(prompt):
                pass
        else:
            chat.invoke(prompt)
    profile = chat._profile
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"# Recorded by cassettes/record.py on {when} from {profile.label} "
        f"({profile.base_url}).\n"
        f"# ChatKimi(model={model!r}).{'stream' if stream else 'invoke'}({prompt!r}); "
        "credential headers filtered, the key scrubbed from bodies.\n"
    )
    path.write_text(header + path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record a Kimi cassette with ChatKimi.")
    parser.add_argument("name", help="cassette file name, without .yaml")
    parser.add_argument("--provider", default=None, help="moonshot, acedata, evolink, ...")
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompt", default="Hello")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--dir", default=str(CASSETTES))
    args = parser.parse_args(argv)
    path = record(
        args.name,
        provider=args.provider,
        model=args.model,
        prompt=args.prompt,
        stream=args.stream,
        base_url=args.base_url,
        cassette_dir=args.dir,
    )
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
