"""End to end in headless Chromium: a manager imports goods from Excel, fixes a bad row, commits."""

import io

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _sheet(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _choose(page, name: str, content: bytes) -> None:
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": name,
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": content,
            }
        ],
    )


def test_manager_uploads_a_sheet_fixes_the_bad_row_commits_and_sees_the_goods(
    page, login_as, settings, tmp_path
):
    # given
    from inventory.models import Brand

    settings.MEDIA_ROOT = str(tmp_path / "media")
    Brand.objects.create(name="Harbour Brew")
    login_as("manager")
    header = ["SKU", "Name", "Brand", "Weight (kg)"]
    bad = [
        header,
        ["BR-001", "Lager 330 ml", "Harbour Brew", 0.35],
        ["BR-002", "IPA 330 ml", "Harbor Brew", 0.35],
    ]
    fixed = [
        header,
        ["BR-001", "Lager 330 ml", "Harbour Brew", 0.35],
        ["BR-002", "IPA 330 ml", "Harbour Brew", 0.35],
    ]

    # when: the import screen from the menu, a sheet with one bad row
    page.goto("/")
    page.locator("#sidenav").get_by_role("link", name="Import from Excel").click()
    page.select_option("#id_resource", "goods")
    _choose(page, "goods.xlsx", _sheet(bad))
    page.get_by_role("button", name="Upload and check").click()

    # then: the check names the row, the column and the problem; nothing is offered to commit
    errors = page.locator("table.import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("3")
    expect(errors.first).to_contain_text("Brand")
    expect(errors.first).to_contain_text("'Harbor Brew' does not exist")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)

    # when: the corrected file, uploaded from the same page
    _choose(page, "goods-fixed.xlsx", _sheet(fixed))
    page.get_by_role("button", name="Upload and check").click()

    # then: a clean preview with the counts
    expect(page.locator(".count-new")).to_have_text("2")
    expect(page.locator("table.import-errors")).to_have_count(0)

    # when: commit
    page.get_by_role("button", name="Import").click()

    # then: done, and the goods are in the list
    expect(page.locator(".messages")).to_contain_text("every row was written")
    expect(page.locator(".import-summary")).to_contain_text("2 new")
    page.get_by_role("link", name="See the goods").click()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("BR-001")
    expect(rows.nth(1)).to_contain_text("IPA 330 ml")
    expect(rows.nth(1)).to_contain_text("Harbour Brew")
