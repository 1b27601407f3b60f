"""rules §11: the zh-Hans interface speaks the real Chinese console's terms; English stays the
default; the committed catalogue is complete (nothing untranslated or fuzzy) and compiled."""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import gettext
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from contacts.models import Contact
from tests.factories import RamUserFactory
from tests.integration.contacts_support import new_contact_post

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
# The seed's Phone Number message as the Chinese console writes it.
SEED_PHONE_MESSAGE_ZH = "请输入有效的中国内地手机号码（不含港澳台），例如 1381111****。"
SEED_PHONE_MESSAGE_EN = (
    "Enter a valid phone number from the Chinese mainland (excluding Hong Kong, Macao, and "
    "Taiwan), such as 1381111****."
)


@pytest.fixture(autouse=True)
def _leave_the_default_language_behind():
    # LocaleMiddleware activates the request's language in this thread and leaves it active;
    # the next test module must start in the default language again.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def zh_client(owner_client):
    """The account owner, who chose 简体中文 in the top bar's language switch."""
    response = owner_client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("contacts:list")}
    )
    assert response.status_code == 302
    return owner_client


# --- Pages in zh-Hans ----------------------------------------------------------------------


def test_contact_management_page_in_chinese_uses_the_consoles_terms(zh_client):
    page = zh_client.get(reverse("contacts:list")).text
    for term in ("联系人管理", "创建联系人", "合并联系人", "企业级特性", "用户名", "手机号码"):
        assert term in page, term
    assert '<html lang="zh-hans">' in page
    assert "Create Contact" not in page


def test_new_contact_panel_in_chinese_labels_every_field(zh_client, ram_user):
    page = zh_client.get(reverse("contacts:new")).text
    for term in (
        "新建联系人",
        "用户名（阿里云登录账号）",
        "阿里云账号：手动输入",
        "RAM 用户：从下拉列表中选择",
        "手机号码",
        "邮箱",
        "钉钉机器人",
        "企业微信机器人",
        "确定",
        "取消",
    ):
        assert term in page, term
    assert "Phone Number" not in page


def test_the_new_contact_modal_is_chinese_over_htmx_too(zh_client, ram_user):
    modal = zh_client.get(reverse("contacts:new"), headers={"HX-Request": "true"}).text
    assert "新建联系人" in modal
    assert "企业微信机器人" in modal


def test_ram_user_detail_in_chinese_shows_permission_management_and_add_authorization(
    zh_client, ram_user
):
    url = reverse("ram:user_detail", args=[ram_user.user_id]) + "?tab=permissions"
    page = zh_client.get(url).text
    for term in ("权限管理", "添加授权", "个人权限", "基本信息"):
        assert term in page, term


def test_create_policy_page_in_chinese_shows_the_script_editor(zh_client):
    page = zh_client.get(reverse("ram:policy_create")).text
    assert "脚本编辑" in page
    assert "创建权限策略" in page


def test_create_policy_step_2_is_chinese_as_a_page_and_as_the_dialog(zh_client):
    document = (
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:ListUsers",'
        ' "Resource": "*"}]}'
    )
    data = {"step": "document", "document": document}
    page = zh_client.post(reverse("ram:policy_create"), data).text
    for term in ("创建权限策略", "策略内容有效", "名称", "描述", "确定", "返回脚本编辑"):
        assert term in page, term
    assert "Back to Script Editor" not in page and "The policy document" not in page
    dialog = zh_client.post(reverse("ram:policy_create"), data, headers={"HX-Request": "true"})
    assert "创建权限策略" in dialog.text and "取消" in dialog.text
    refused = zh_client.post(reverse("ram:policy_create"), {"document": "{", "name": "X"})
    assert "策略内容无效" in refused.text and "请返回脚本编辑" in refused.text


def test_a_bad_phone_posted_in_chinese_gets_the_seeds_chinese_message(zh_client, ram_user):
    response = zh_client.post(
        reverse("contacts:new"), new_contact_post(ram_user=ram_user.pk, phone="+852 5123 4567")
    )
    assert response.status_code == 422
    assert SEED_PHONE_MESSAGE_ZH in response.text
    assert SEED_PHONE_MESSAGE_EN not in response.text
    assert not Contact.objects.exists()


def test_script_editor_says_in_chinese_what_is_wrong_and_where(zh_client):
    document = '{"Version": "2", "Statement": [{"Effect": "Permit", "Action": "ListUsers"}]}'
    response = zh_client.post(
        reverse("ram:policy_create"), {"name": "Broken", "document": document}
    )
    assert response.status_code == 422
    page = response.text
    assert 'Version：必须为 "1"，实际为 "2"。' in page.replace("&quot;", '"')
    assert "Statement[0].Effect：必须为" in page.replace("&quot;", '"')
    assert "Statement[0].Resource：缺失。" in page


def test_merge_preview_gives_skip_reasons_in_chinese(zh_client, account):
    RamUserFactory(account=account, user_name="erin", mobile_phone="852-51234567")
    page = zh_client.get(reverse("arms:merge_contacts")).text
    assert "已跳过" in page
    assert "没有中国内地手机号码" in page


def test_success_messages_follow_the_language(zh_client, ram_user):
    response = zh_client.post(
        reverse("contacts:new"),
        new_contact_post(ram_user=ram_user.pk, phone="13811112222"),
        follow=True,
    )
    assert f"已创建联系人 {ram_user.user_name}。" in response.text


def test_accept_language_zh_hans_alone_selects_chinese(owner_client):
    page = owner_client.get(reverse("contacts:list"), HTTP_ACCEPT_LANGUAGE="zh-Hans").text
    assert "联系人管理" in page


def test_english_stays_the_default(owner_client, ram_user):
    page = owner_client.get(reverse("contacts:list")).text
    assert "Contact Management" in page
    assert "Create Contact" in page
    assert "联系人管理" not in page
    response = owner_client.post(
        reverse("contacts:new"), new_contact_post(ram_user=ram_user.pk, phone="+852 5123 4567")
    )
    assert SEED_PHONE_MESSAGE_EN in response.text


def test_switching_back_to_english_restores_english(zh_client):
    zh_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = zh_client.get(reverse("contacts:list")).text
    assert "Contact Management" in page
    assert "联系人管理" not in page


# --- The catalogue ---------------------------------------------------------------------------


def _unquote(lines: list[str]) -> str:
    text = "".join(line.strip()[1:-1] for line in lines)
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def po_entries(path: Path) -> list[dict]:
    """A plain .po reader (polib is not installed): each entry's flags, msgid and msgstrs."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "fields": {}}
        current: str | None = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) ", line):
                current = match.group(1)
                entry["fields"][current] = [line[match.end() :]]
            elif line.startswith('"') and current:
                entry["fields"][current].append(line)
        if "msgid" in entry["fields"]:
            entry["msgid"] = _unquote(entry["fields"]["msgid"])
            entry["msgstrs"] = [
                _unquote(value)
                for key, value in entry["fields"].items()
                if key.startswith("msgstr")
            ]
            entries.append(entry)
    return entries


def test_the_catalogue_has_no_untranslated_or_fuzzy_entry():
    entries = [entry for entry in po_entries(PO_FILE) if entry["msgid"]]  # not the header
    assert len(entries) > 200
    untranslated = [e["msgid"] for e in entries if not all(e["msgstrs"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_every_translation_keeps_its_placeholders():
    """Every placeholder and tag of the English text is in the translation, and nothing else:
    a missing one loses information, an unknown one raises KeyError when formatted. Only an
    entry flagged no-python-brace-format (English grammar such as {verb}) may leave one out."""
    # Python and brace placeholders, and the HTML tags the blocktranslate texts carry.
    placeholder = re.compile(r"%\(\w+\)s|\{\w+\}|</?(?:strong|code)>")
    wrong = []
    for entry in po_entries(PO_FILE):
        if not entry["msgid"]:
            continue
        expected = sorted(placeholder.findall(entry["msgid"]))
        for msgstr in entry["msgstrs"]:
            found = sorted(placeholder.findall(msgstr))
            if "no-python-brace-format" in entry["flags"]:
                if not set(found) <= set(expected):
                    wrong.append((entry["msgid"], msgstr))
            elif found != expected:
                wrong.append((entry["msgid"], msgstr))
    assert wrong == []


def test_the_catalogue_uses_spec_11s_terms():
    translations = {entry["msgid"]: entry["msgstrs"][0] for entry in po_entries(PO_FILE)}
    spec_terms = {
        "Enterprise Features": "企业级特性",
        "Contact Management": "联系人管理",
        "Create Contact": "创建联系人",
        "New Contact": "新建联系人",
        "Username": "用户名",
        "Alibaba Cloud account": "阿里云账号",
        "RAM user": "RAM 用户",
        "Phone Number": "手机号码",
        "Mailbox": "邮箱",
        "DingTalk Robot": "钉钉机器人",
        "WeCom Robot": "企业微信机器人",
        "Edit": "编辑",
        "Delete": "删除",
        "Merge Contacts": "合并联系人",
        "Confirm": "确定",
        "Cancel": "取消",
        "Contact Groups": "联系人组",
        "Notification Policies": "通知策略",
        "Permission Management": "权限管理",
        "Add Authorization": "添加授权",
        "Script Editor": "脚本编辑",
        "Policies": "权限策略",
        "Create Policy": "创建权限策略",
        "Personal Permissions": "个人权限",
        "System Policy": "系统策略",
        "Custom Policy": "自定义策略",
        "Remove": "移除授权",
        "Login name": "登录名称",
        "Display Name": "显示名称",
        "Sign in": "登录",
        "Sign out": "退出登录",
        "Users": "用户",
    }
    assert {msgid: translations.get(msgid) for msgid in spec_terms} == spec_terms
    assert translations[SEED_PHONE_MESSAGE_EN] == SEED_PHONE_MESSAGE_ZH


def test_the_compiled_catalogue_is_committed_and_not_older_than_its_source():
    """The .mo holds exactly what the .po says. Compared by content, not by mtime: a fresh
    clone writes both files at checkout in an arbitrary order."""
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries(PO_FILE):
        if not entry["msgid"]:
            continue
        if "msgid_plural" in entry["fields"]:
            plural = _unquote(entry["fields"]["msgid_plural"])
            got = compiled.ngettext(entry["msgid"], plural, 1)
        else:
            got = compiled.gettext(entry["msgid"])
        if got != entry["msgstrs"][0]:
            stale.append(entry["msgid"])
    assert stale == []


def test_msgfmt_finds_the_catalogue_valid_and_complete():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "translated message" in result.stderr
    assert "fuzzy" not in result.stderr
    assert "untranslated" not in result.stderr
