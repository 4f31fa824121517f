"""A goods sheet naming brands or categories that do not exist: the preview lists them and offers
to create them with the import, in the import's own all-or-nothing transaction."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory.imports import jobs
from inventory.imports.errors import ImportRefused
from inventory.models import Brand, Category, Goods, ImportJob
from inventory.tests.factories import CategoryFactory, GoodsFactory
from inventory.tests.test_import_support import csv_bytes, media_root

pytestmark = pytest.mark.django_db
__all__ = ["media_root"]

START = reverse("inventory:import-start")
HEADER = ["sku", "name", "brand", "category", "barcode"]


@pytest.fixture
def manager_client(client, make_user, media_root):
    client.force_login(make_user("manager"))
    return client


def _upload(client, rows):
    response = client.post(
        START,
        {"resource": "goods", "file": SimpleUploadedFile("goods.csv", csv_bytes([HEADER, *rows]))},
        follow=True,
    )
    return response, ImportJob.objects.order_by("-pk").first()


def _accept(client, job):
    return client.post(reverse("inventory:import-job-create-missing", args=[job.pk]), follow=True)


ROWS = [
    ["B-1", "Beer one", "Acme", "Drinks > Beer", ""],
    ["B-2", "Beer two", "acme", "Drinks > Beer", ""],
    ["W-1", "Wine", "Vino", "Drinks", ""],
]


def test_the_preview_offers_to_create_the_missing_brands_and_categories_by_name(manager_client):
    # when
    response, job = _upload(manager_client, ROWS)

    # then: refused row by row as before, and the offer lists the names once each
    assert job.status == ImportJob.Status.INVALID
    assert job.preview["missing"] == {
        "brands": ["Acme", "Vino"],
        "categories": ["Drinks", "Drinks > Beer"],
    }
    text = response.content.decode()
    assert "Create the 2 missing brands and 2 missing categories" in text
    assert "Acme, Vino" in text and "Drinks, Drinks &gt; Beer" in text
    assert not Brand.objects.exists() and not Category.objects.exists()


def test_accepting_creates_them_only_with_the_commit_in_one_transaction(manager_client):
    # given
    _response, job = _upload(manager_client, ROWS)

    # when: accepted, the sheet is checked again (nothing written yet)
    checked = _accept(manager_client, job)
    job.refresh_from_db()

    # then
    assert job.status == ImportJob.Status.READY
    assert not Brand.objects.exists() and not Category.objects.exists()
    assert "The import will also create" in checked.content.decode()
    assert job.preview["created"] == {
        "brands": ["Acme", "Vino"],
        "categories": ["Drinks", "Drinks > Beer"],
    }

    # when: committed
    manager_client.post(reverse("inventory:import-job-commit", args=[job.pk]))

    # then
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    beer = Category.objects.get(name="Beer")
    assert beer.parent.name == "Drinks" and beer.parent.parent is None
    assert sorted(Brand.objects.values_list("name", flat=True)) == ["Acme", "Vino"]
    b1, b2, w1 = (Goods.objects.get(sku=sku) for sku in ("B-1", "B-2", "W-1"))
    assert (b1.brand.name, b1.category_id) == ("Acme", beer.pk)
    assert b2.brand_id == b1.brand_id
    assert (w1.brand.name, w1.category_id) == ("Vino", beer.parent_id)
    assert job.result["created"]["brands"] == ["Acme", "Vino"]


def test_declining_leaves_the_sheet_refused_and_creates_nothing(manager_client, make_user):
    # given
    _response, job = _upload(manager_client, ROWS)

    # when / then: the import cannot be committed without the names
    with pytest.raises(ImportRefused):
        jobs.import_job_commit(job=job, user=make_user("admin"))
    assert not Brand.objects.exists() and not Category.objects.exists()
    assert not Goods.objects.exists()


def test_a_commit_that_fails_creates_no_brand_or_category(manager_client):
    # given: accepted and checked; then another goods takes a barcode of the sheet
    _response, job = _upload(manager_client, [["B-1", "Beer", "Acme", "Drinks", "6901234567892"]])
    _accept(manager_client, job)
    GoodsFactory(sku="OTHER", barcode="6901234567892")

    # when
    manager_client.post(reverse("inventory:import-job-commit", args=[job.pk]))

    # then: all or nothing
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert not Brand.objects.filter(name="Acme").exists()
    assert not Category.objects.filter(name="Drinks").exists()
    assert not Goods.objects.filter(sku="B-1").exists()


def test_a_path_under_an_existing_category_creates_only_the_missing_level(manager_client):
    # given
    drinks = CategoryFactory(name="Drinks")
    _response, job = _upload(manager_client, [["B-1", "Beer", "", "drinks / Beer", ""]])
    assert job.preview["missing"] == {"brands": [], "categories": ["drinks > Beer"]}

    # when
    _accept(manager_client, job)
    job.refresh_from_db()
    manager_client.post(reverse("inventory:import-job-commit", args=[job.pk]))

    # then
    assert Category.objects.count() == 2
    assert Goods.objects.get(sku="B-1").category == Category.objects.get(name="Beer", parent=drinks)


def test_chinese_brand_and_category_names_are_created(manager_client):
    # given
    _response, job = _upload(
        manager_client, [["QD-1", "青岛啤酒 500ml", "青岛", "饮料 > 啤酒", ""]]
    )
    assert job.preview["missing"] == {"brands": ["青岛"], "categories": ["饮料", "饮料 > 啤酒"]}

    # when
    _accept(manager_client, job)
    job.refresh_from_db()
    manager_client.post(reverse("inventory:import-job-commit", args=[job.pk]))

    # then
    goods = Goods.objects.get(sku="QD-1")
    assert goods.brand.name == "青岛"
    assert (goods.category.name, goods.category.parent.name) == ("啤酒", "饮料")


def test_a_user_who_may_not_add_brands_is_refused(client, django_user_model, media_root):
    # given: may import goods, may not add brands or categories
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(username="importer")
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="inventory", codename__in=["add_goods", "change_goods"]
        )
    )
    client.force_login(user)
    _response, job = _upload(client, ROWS)

    # when
    response = _accept(client, job)

    # then
    assert "may not add brands or categories" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID and job.create_missing == {}


def test_the_offer_reads_in_chinese(manager_client):
    # given
    _response, job = _upload(manager_client, ROWS)

    # when
    response = manager_client.get(
        reverse("inventory:import-job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    # then
    text = response.content.decode()
    assert "新建缺少的 2 个品牌和 2 个分类" in text
    assert "尚不存在的名称" in text and "Acme, Vino" in text
