"""The key set of an external identity provider, fetched from its JWKS URL and cached.

Fetched at start-up, refreshed every `max_age`, and once more (at most every `min_refresh`)
when a token names a key we have not seen, since the provider may have rotated its keys.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)


class RemoteKeySet:
    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        max_age: float = 600.0,
        min_refresh: float = 30.0,
    ) -> None:
        self.url = url
        self._client = client
        self.max_age = max_age
        self.min_refresh = min_refresh
        self._keys = KeySet([])
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_set(self) -> KeySet:
        if time.monotonic() - self._fetched_at > self.max_age:
            await self.refresh()
        return self._keys

    async def refresh_for_unknown_key(self) -> bool:
        """A token named a key we lack: refetch, unless we did so moments ago. True if we did."""
        if time.monotonic() - self._fetched_at < self.min_refresh:
            return False
        await self.refresh()
        return True

    async def refresh(self) -> None:
        async with self._lock:
            try:
                response = await self._client.get(self.url, timeout=5.0)
                response.raise_for_status()
                document: Any = response.json()
                # Private members in a published set are the provider's mistake: never keep them.
                public = [
                    {k: v for k, v in key.items() if k not in {"d", "p", "q", "dp", "dq", "qi"}}
                    for key in document["keys"]
                ]
                self._keys = KeySet.import_key_set({"keys": public})
            except (httpx.HTTPError, ValueError, KeyError, TypeError, JoseError):
                # Keep serving with the keys we had; the next refresh tries again.
                log.warning("could not fetch the identity provider's keys from %s", self.url)
            finally:
                self._fetched_at = time.monotonic()
