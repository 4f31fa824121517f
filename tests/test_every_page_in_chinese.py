"""Every screen renders in Simplified Chinese, with no English heading left behind.

The walk: the demo data set (``wms_demo``), logged in as the demo administrator, language
zh-hans. Every URL pattern of the project's own apps that takes no argument is opened; every
link those pages show to a page with an argument (a sheet, a freeze, a goods, a bin...) is
opened once per URL pattern. Each page must answer 200 (never a 500) and show no known English
text in its headings, table headers, labels, buttons, options and title: a known English text
is any msgid of the root catalogue that has a different Chinese translation, so a string
translated once at import (module-level ``gettext``) or never marked is caught.
"""

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from wms.demo import DEMO_USERS

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
# The root catalogue and the new apps' own (allocation, channels_sync, api).
CATALOGUES = sorted(ROOT.glob("*/zh_Hans/LC_MESSAGES/django.po")) + sorted(
    ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")
)
APPS = ("warehouses", "inventory", "freezes", "allocation", "channels_sync", "floor", "wms")
SKIPPED_NAMES = {"logout", "set_language", "healthz", "favicon"}
# Known defects another change fixes (none left: remove each entry when its fix lands).
KNOWN_BROKEN: dict[str, str] = {}
ALLOWED = {
    "English",  # the language menu names each language in its own tongue
    "Freeze sales returns on receipt",  # a demo rule's name: data the merchant typed, not UI
}
CHECKED_TAGS = {"h1", "h2", "h3", "th", "title", "label", "button", "option", "summary", "legend"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _entries():
    """(msgid, msgstr) of every singular entry of every catalogue, as written in the file."""
    for catalogue in CATALOGUES:
        for block in catalogue.read_text(encoding="utf-8").split("\n\n"):
            msgid = re.search(r'^msgid ((?:".*"\n?)+?)^msgstr ', block, re.M)
            msgstr = re.search(r'^msgstr ((?:".*"\n?)+)', block, re.M)
            if not msgid or not msgstr or "msgid_plural" in block:
                continue
            english = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', msgid.group(1)))
            chinese = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', msgstr.group(1)))
            yield english, chinese


def _english_texts() -> set[str]:
    """The catalogues' msgids whose Chinese differs (plain text, with letters, 4+ chars)."""
    known = set()
    for english, chinese in _entries():
        plain = "%" not in english and "\\" not in english and re.search(r"[A-Za-z]", english)
        if chinese and chinese != english and len(english) >= 4 and plain:
            known.add(english)
    return known


class _Texts(HTMLParser):
    """Collects the text of the checked elements, and every local href."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.texts: list[tuple[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith("/") and not href.startswith("//"):
                self.links.append(href.replace("&amp;", "&"))
        if tag not in {"br", "img", "input", "meta", "link", "hr", "source"}:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and self.stack and self.stack[-1] in CHECKED_TAGS:
            self.texts.append((self.stack[-1], text))


def _own_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(route, full URL name, pattern) of every named URL of the project's apps."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            module = getattr(entry.urlconf_module, "__name__", "")
            if not module.startswith(APPS):
                continue  # the admin, i18n: Django's own, translated by Django
            inner = f"{namespace}:{entry.namespace}" if entry.namespace else namespace
            yield from _own_patterns(entry, prefix + str(entry.pattern), inner.strip(":"))
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield prefix + str(entry.pattern), name, entry


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def test_every_page_renders_in_chinese_without_english_headings(client, django_user_model):
    # given: the demo data, its administrator, Chinese
    call_command("wms_demo", stdout=io.StringIO())
    admin_name = next(name for name, _group, _staff, is_super in DEMO_USERS if is_super)
    client.force_login(django_user_model.objects.get(username=admin_name))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.raise_request_exception = False  # a 500 is reported with its URL, below
    english = _english_texts()
    assert "Inbound sheets" in english and "Stock query" in english

    # when: every page without arguments, then one linked page per pattern with arguments
    to_visit = [
        "/" + route
        for route, name, pattern in _own_patterns()
        if "<" not in route
        and "^" not in route  # regex routes: the API's router (JSON, not screens)
        and not re.search(r"\.(pdf|csv|xlsx|svg|png)$", route)  # files, asked for with a query
        and name.split(":")[-1] not in SKIPPED_NAMES
    ]
    seen_patterns: set[str] = set()
    visited: set[str] = set()
    problems: list[str] = []
    while to_visit:
        url = to_visit.pop(0)
        if url in visited:
            continue
        visited.add(url)
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)  # read to the end: the client closes the file
        if response.status_code in (301, 302, 405):
            continue  # a redirect (e.g. to the new page) or a POST-only action
        if response.status_code not in (200, 422):  # 422: a page asking for its input
            problems.append(f"{url}: status {response.status_code}")
            continue
        if not _is_html(response):
            continue  # a download
        parser = _Texts()
        parser.feed(response.content.decode())
        leftovers = sorted({t for _tag, t in parser.texts if t in english and t not in ALLOWED})
        if leftovers:
            problems.append(f"{url}: English {leftovers}")
        for link in parser.links:
            path = link.split("?")[0].split("#")[0]
            try:
                match = resolve(path)
            except Resolver404:
                continue
            if not match.kwargs or match.url_name in SKIPPED_NAMES:
                continue
            if not match.func.__module__.startswith(APPS):
                continue
            key = match.view_name
            if key in KNOWN_BROKEN:
                continue
            if key not in seen_patterns and "export" not in key and "download" not in key:
                seen_patterns.add(key)
                to_visit.append(path)

    # then
    assert len(visited) > 40, sorted(visited)
    assert {"inventory:inbound-detail", "freezes:freeze-detail"} <= seen_patterns
    assert problems == [], "\n".join(problems)


def test_chinese_text_uses_full_width_punctuation():
    # given: ASCII colon, semicolon or parentheses touching Chinese text ("%(n)s" and times
    # such as 02:30 are not punctuation)
    ascii_mark = re.compile(
        r"[\u4e00-\u9fff][:;(]|[:;)][\u4e00-\u9fff]|[\u4e00-\u9fff] ?\((?!\w+\)[sd])"
    )

    # when
    entity = re.compile(r"&#?\w+;")  # HTML entities such as &lt; are not punctuation
    offending = [c for _e, c in _entries() if ascii_mark.search(entity.sub("", c))]

    # then
    assert CATALOGUES
    assert offending == []


def test_the_sheet_type_filter_offers_all_types_once(client, make_user):
    # given
    client.force_login(make_user("manager"))

    # when
    page = client.get("/inventory/inbound/").content.decode()

    # then
    assert page.count(">All types<") == 1
