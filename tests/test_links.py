"""Signed stream links: what they sign, and what they refuse."""

from __future__ import annotations

import time

from podium import links


def test_a_link_signs_its_prefix_and_expiry() -> None:
    url = links.signed("http://h", "key", "a/b/c", "hls/index.m3u8", 60)
    expires, sig, prefix, *name = url.removeprefix("http://h/api/v1/streams/").split("/")
    assert prefix == "a~b~c" and "/".join(name) == "hls/index.m3u8"
    assert links.valid("key", "a/b/c", int(expires), sig)
    assert not links.valid("other-key", "a/b/c", int(expires), sig)
    assert not links.valid("key", "a/b/d", int(expires), sig)  # another stream
    assert not links.valid("key", "a/b/c", int(expires) + 1, sig)  # a later expiry
    assert not links.valid("key", "a/b/c", int(expires), sig, now=time.time() + 61)  # expired
    assert not links.valid("key", "a/b/c", int(expires), "é" * 64)  # not even hex
