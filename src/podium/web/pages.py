"""The pages a person sees: rendered from templates, sent with a strict Content-Security-Policy.

Every URL in a page is relative to the page itself (`../static/…`, `../api/v1/…`), so the page
works wherever Podium is mounted: behind a path prefix or on another host, with no setting to
keep in step (PODIUM_PUBLIC_URL only decides the entry links Podium hands out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from podium.auth.roles import is_managing
from podium.participants.schemas import LinkLook

_env = Environment(
    loader=PackageLoader("podium.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

# What a refused link's page says, by the code `participants.look` answers.
REFUSALS = {
    "link_invalid": ("This link does not work", "Check that you copied the whole link, or ask "
                     "the organiser for a new one."),
    "link_revoked": ("This link was withdrawn", "The organiser replaced or cancelled it. Ask "
                     "them for a new link."),
    "link_used": ("This link was already used", "It opens the class once, and it has. If that "
                  "was not you, tell the organiser."),
    "link_not_yet_valid": ("The class has not started yet", "Come back when it starts; this "
                           "link will open it then."),
    "link_expired": ("The class has ended", "This link no longer opens it."),
    "banned": ("You cannot join this class", "A moderator removed you from it."),
}  # fmt: skip

# The HTTP status of a refused link's page, as POST /api/v1/join would answer it.
STATUS = {"link_invalid": 404, "link_revoked": 410, "link_used": 410,
          "link_not_yet_valid": 403, "link_expired": 403, "banned": 403}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    html: str


def origins(urls: Iterable[str]) -> list[str]:
    """The origins (scheme://host[:port]) of URLs, once each, in order: what the pages may
    connect to besides Podium (its Janus servers, as browsers reach them)."""
    seen: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme in ("http", "https") and parts.netloc and origin not in seen:
            seen.append(origin)
    return seen


@cache
def page_headers(janus_urls: tuple[str, ...]) -> dict[str, str]:
    """The pages' headers for these Janus servers (the same for every page of a process)."""
    return security_headers(origins(janus_urls))


def security_headers(janus_origins: list[str]) -> dict[str, str]:
    """No inline script or style, no third party, no framing; the entry token in the URL never
    leaves in a Referer; the page is never cached (it is personal)."""
    connect = " ".join(["'self'", *janus_origins])
    policy = "; ".join([
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "media-src 'self' blob: mediastream:", f"connect-src {connect}", "base-uri 'none'",
        "form-action 'none'", "frame-ancestors 'none'",
    ])  # fmt: skip
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(self)",
    }


def join_page(look: LinkLook) -> Page:
    """The entry link's page: the class and the person, or why the link does not open it."""
    title, advice = REFUSALS.get(look.refusal or "", (None, None))
    html = _env.get_template("join.html").render(
        look=look, refusal_title=title, refusal_advice=advice,
        manages=look.role is not None and is_managing(look.role),
    )  # fmt: skip
    return Page(STATUS.get(look.refusal or "", 200), html)
