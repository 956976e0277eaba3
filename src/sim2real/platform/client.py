"""A small JSON client of the platform's API (standard library only), used by `sim2real
submit` and by stations. Network failures are retried with backoff; a refusal (4xx) is raised
as PlatformError with the server's one-line reason."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sim2real.errors import Sim2RealError
from sim2real.platform.errors import PlatformError


class PlatformClient:
    def __init__(self, server: str, token: str | None = None, timeout: float = 30.0, retries: int = 5) -> None:
        if not server.startswith(("http://", "https://")):
            raise Sim2RealError(f"invalid server: {server!r}; allowed: http://HOST:PORT or https://HOST")
        self.server = server.rstrip("/")
        self.token, self.timeout, self.retries = token, timeout, retries

    def request(self, method: str, path: str, body: Any = None, data: bytes | None = None,
                content_type: str = "application/json", sink: Path | None = None) -> Any:
        """The JSON answer; or, with `sink`, the answer's bytes written to that file (None)."""
        payload = data if data is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        delay = 0.5
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.server + path, data=payload, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    if sink is not None:
                        with open(sink, "wb") as file:
                            shutil.copyfileobj(response, file, 2**20)
                        return None
                    text = response.read()
                    return json.loads(text) if text else None
            except urllib.error.HTTPError as error:
                text = error.read().decode(errors="replace")
                if error.code in (502, 503, 504) and attempt < self.retries:
                    time.sleep(delay)
                    delay *= 2
                    continue
                try:
                    reason = json.loads(text).get("error") or text
                except (ValueError, AttributeError):
                    reason = text
                if isinstance(reason, list):  # FastAPI's validation detail
                    reason = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in reason)
                refusal = PlatformError(f"{reason}" if reason else f"HTTP {error.code}")
                refusal.status = error.code
                raise refusal from None
            except (urllib.error.URLError, OSError, TimeoutError) as error:
                if attempt < self.retries:  # the server restarting, a dropped connection: retry
                    time.sleep(delay)
                    delay *= 2
                    continue
                raise Sim2RealError(f"cannot reach the platform at {self.server}: {error}") from None
        raise AssertionError("unreachable")

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body if body is not None else {})
