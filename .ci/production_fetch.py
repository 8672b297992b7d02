"""Fetch the pages a first visitor of the production server needs, with the standard library
only: the login page, a page after logging in, a static file that page links to, /healthz.
Every one must answer 200; prints one line per URL and exits 1 on the first failure.

    python .ci/production_fetch.py http://127.0.0.1:8765 USERNAME PASSWORD
"""

import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request


def main(base: str, username: str, password: str) -> int:
    if not base.startswith(("http://", "https://")):
        raise SystemExit("the base URL must be http(s)")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path: str) -> tuple[int, str]:
        try:
            with opener.open(base + path, timeout=20) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def check(label: str, path: str, status: int, body: str = "") -> None:
        print(f"{status} {label} {path}")
        if status != 200:
            print(body[:2000])
            raise SystemExit(1)

    status, login_page = get("/accounts/login/")
    check("login page", "/accounts/login/", status)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
    if not token:
        print("no CSRF token on the login page")
        return 1
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - base is the local http server
        base + "/accounts/login/", data=form, headers={"Referer": base + "/accounts/login/"}
    )
    with opener.open(request, timeout=20) as response:  # follows the redirect after login
        after_login = response.geturl()
        page = response.read().decode("utf-8", "replace")
        check("after login", urllib.parse.urlparse(after_login).path, response.status)
    if "/accounts/login/" in after_login:
        print("login failed: still on the login page")
        return 1
    status, clients = get("/clients/")
    check("page after login", "/clients/", status)
    static = re.search(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', clients + page)
    if not static:
        print("no static file linked from the page")
        return 1
    status, _body = get(static.group(1))
    check("static file", static.group(1), status)
    if not re.search(r"\.[0-9a-f]{12}\.(css|js)$", static.group(1)):
        print("the static file is not the hashed (manifest) name")
        return 1
    status, body = get("/healthz")
    check("health", "/healthz", status, body)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
