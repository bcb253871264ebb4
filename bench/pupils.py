"""Simulated pupils: enter the one-time code once (the real forms), then a plan of answer POSTs for wrk."""

from __future__ import annotations

import http.client
import json
import random
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
#: The PHQ-A critical item: only every ALERT_EVERY-th simulated pupil answers it with 1 (an urgent alert).
CRITICAL_ITEMS = {"self_harm"}
ALERT_EVERY = 8
CYCLES = 4


@dataclass
class Browser:
    """A phone's cookie jar over one host (cookies are sent on http:// too: the bench has no TLS)."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """One request; returns (status, Location, body) and keeps the cookies."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Host": self.host, "Accept-Language": "ru"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name.strip()] = rest.split(";", 1)[0]
        text = response.read().decode("utf-8", "replace")
        conn.close()
        return response.status, urlsplit(response.getheader("Location") or "").path, text

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def csrf(self, path: str) -> str:
        status, _location, body = self.call("GET", path)
        found = _CSRF_RE.search(body)
        if status != 200 or found is None:
            raise RuntimeError(f"GET {path}: status {status}, no CSRF token")
        return found.group(1)


def sign_in(browser: Browser, code: str, language: str = "ru") -> str:
    """Enter the code and choose the language like a pupil; return the form token for the answers."""
    token = browser.csrf("/s")
    status, location, _ = browser.call("POST", "/s", {"csrf_token": token, "code": code})
    if status != 302 or location not in ("/s/language", "/s/q"):
        raise RuntimeError(f"code entry failed: {status} {location}")
    if location == "/s/language":
        token = browser.csrf("/s/language")
        status, location, _ = browser.call("POST", "/s/language", {"csrf_token": token, "language": language})
        if status != 302 or location != "/s/q":
            raise RuntimeError(f"language choice failed: {status} {location}")
    return browser.csrf("/s/q")


def answer_requests(browser: Browser, token: str, items: list[dict], *, rng: random.Random,
                    raises_alert: bool) -> list[list]:
    """The pupil's answer POSTs (wrk.format arguments), ``CYCLES`` passes over ``items`` with varied answers."""
    headers = {"Host": browser.host, "Cookie": browser.cookie_header(), "Accept-Language": "ru",
               "Content-Type": "application/x-www-form-urlencoded"}
    requests = []
    for cycle in range(CYCLES):
        for position, item in enumerate(items, start=1):
            if item["id"] in CRITICAL_ITEMS:
                value = 1 if raises_alert and cycle == 0 else 0
            else:
                value = rng.choice(item["values"])
            body = urlencode({"csrf_token": token, "answer": str(value)})
            requests.append(["POST", f"/s/q?n={position}", headers, body])
    return requests


def prepare(host: str, port: int, plan: dict, *, seed: int = 7) -> list[list[list]]:
    """Sign every sampled pupil in and build their request lists."""
    rng = random.Random(seed)
    everyone = []
    for n, entry in enumerate(plan["codes"]):
        browser = Browser(host, port)
        token = sign_in(browser, entry["code"])
        items = plan["instruments"][entry["instrument"]]["items"]
        everyone.append(answer_requests(browser, token, items, rng=rng, raises_alert=n % ALERT_EVERY == 0))
    return everyone


def ceiling_requests(host: str, count: int, *, seed: int = 7) -> list[list[list]]:
    """One ~1 KB JSON body of 30 answers per simulated client, for the bare ceiling app."""
    rng = random.Random(seed)
    headers = {"Host": host, "Content-Type": "application/json"}
    out = []
    for _ in range(count):
        answers = {f"item_{i:02d}_{'x' * 16}": rng.randint(0, 3) for i in range(30)}
        body = json.dumps({"instrument": "phq-a@1.0", "language": "ru", "answers": answers})
        out.append([["POST", "/submit", headers, body]])
    return out


def to_lua(value: object) -> str:
    """A Lua literal for plain data (ASCII strings, ints, lists, dicts)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if not value.isascii():
            raise ValueError("the wrk plan holds ASCII only")
        return json.dumps(value)  # a JSON string of printable ASCII is a valid Lua string
    if isinstance(value, list):
        return "{" + ", ".join(to_lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{to_lua(k)}] = {to_lua(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "nil"
    raise TypeError(type(value).__name__)
