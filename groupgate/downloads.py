"""`GET /files/{token}`: a document's file, through a link the API signed (`Document.downloadUrl`).

The link is the credential, so that a browser can follow it; a request that also carries a
bearer token must be that same user's, and a prospect's link (an application's document, for
whoever holds the quote's key) is followed with no bearer token at all. What each refusal says,
and why:
- 403: not a link the gateway signed (malformed, altered, another key). This is decided before
  anything is looked up, so it says nothing about which documents exist.
- 410: a link the gateway signed, past its five minutes: the client should ask for a new one.
  Only the gateway can make such a link, so this too tells nothing new.
- 404: everything decided afterwards, alike — the user is no longer active or no longer reads
  the document's group (or follows its application), the document is gone or not the
  prospect's application's, or another user is signed in — so that a link reveals no more than
  its holder may see at the time of the download.
- 500: the stored file is missing or no longer matches its digest; logged for an operator.

Reads `database`, `policy`, `settings` and `file_store` from `app.state`.
"""

from __future__ import annotations

import base64
import logging
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, request_response

from groupgate.authentication import USER_STATE, BearerAuthentication
from resolvers import contracts
from resolvers.context import Context

log = logging.getLogger(__name__)

# A file may be sensitive, and its link is a credential: neither is kept or passed on.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_UNQUOTED = re.compile(r"[^A-Za-z0-9 ,.()_-]")


def download_routes() -> list[BaseRoute]:
    return [
        Route("/files/{token}", BearerAuthentication(request_response(download)), methods=["GET"])
    ]


async def download(request: Request) -> Response:
    state = request.app.state
    now = datetime.now(UTC)
    secret_key: bytes = state.settings.secret_key.get_secret_value().encode()
    try:
        grant = contracts.verified_grant(secret_key, request.path_params["token"], now)
    except contracts.LinkInvalid:
        return _refusal(403, "not a valid download link")
    except contracts.LinkExpired:
        return _refusal(410, "this download link has expired: ask for a new one")
    # A grant that expired since the policy was loaded must not decide this download.
    await state.policy.ensure_current(now)
    context = Context(
        database=state.database,
        policy=state.policy,
        user=getattr(request.state, USER_STATE, None),
        request_id=request.state.request_id,
        address=request.client.host if request.client else None,
        public_url=state.settings.token_issuer,
        now=now,
        secret_key=secret_key,
    )
    try:
        found = await contracts.download(context, state.file_store, grant)
    except contracts.FileDamaged as damaged:
        log.error("request %s: %s", context.request_id, damaged)
        return _refusal(500, f"the file cannot be served (request {context.request_id})")
    if found is None:
        return _refusal(404, "no such document")
    document = found.document
    digest = base64.b64encode(bytes.fromhex(document.sha256)).decode()
    return Response(
        found.content,
        media_type=document.content_type,
        headers={
            **_PRIVATE,
            "Content-Disposition": _attachment(document.title, document.storage_key),
            "X-Content-Type-Options": "nosniff",
            # RFC 9530: the client can check what it received against the recorded digest.
            "Repr-Digest": f"sha-256=:{digest}:",
        },
    )


def _attachment(title: str, storage_key: str) -> str:
    """Save, never display; named after the title, in ASCII for clients that know no RFC 6266."""
    name = title + PurePosixPath(storage_key).suffix
    fallback = _UNQUOTED.sub("_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _refusal(status_code: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=status_code, headers=_PRIVATE)
