"""``examples/erp_sync.py`` runs, as an ERP would, against a live server with a real token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api import tokens
from freezes.models import Freeze
from inventory.models import Goods, InboundSheet, StockBalance
from warehouses.tests.factories import BinFactory

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "erp_sync.py"


def _run(live_server, raw: str, bin_) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [
            sys.executable,
            str(SCRIPT),
            "--base-url",
            live_server.url,
            "--warehouse",
            bin_.warehouse.code,
            "--bin",
            bin_.code,
            "--sku",
            "ERP-LIP-9",
            "--po",
            "PO-77",
        ],
        env={**os.environ, "WMS_API_TOKEN": raw},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_erp_example_creates_receives_freezes_and_reads_twice_without_double_posting(
    live_server, make_user
):
    # given a warehouse manager's token and a bin
    bin_ = BinFactory()
    _token, raw = tokens.token_create(user=make_user("manager"), name="ERP")
    # when the ERP runs the script
    first = _run(live_server, raw, bin_)
    # then the goods exist, the batch is received and frozen, and the balances were printed
    assert first.returncode == 0, first.stderr
    goods = Goods.objects.get(sku="ERP-LIP-9")
    balance = StockBalance.objects.get(goods=goods, bin=bin_)
    assert (balance.on_hand, balance.frozen) == (120, 120)
    assert Freeze.objects.filter(batch=balance.batch, reason="qc_hold").count() == 1
    assert "on hand 120, frozen 120, available 0" in first.stdout
    # and running it again (same PO) posts nothing twice
    second = _run(live_server, raw, bin_)
    assert second.returncode == 0, second.stderr
    assert "exists" in second.stdout
    assert InboundSheet.objects.filter(reference="PO-77").count() == 1
    assert Freeze.objects.count() == 1
    assert StockBalance.objects.get(pk=balance.pk).on_hand == 120


@pytest.mark.django_db(transaction=True)
def test_erp_example_exits_non_zero_on_a_refusal(live_server, make_user):
    bin_ = BinFactory()
    _token, raw = tokens.token_create(user=make_user("qc"), name="read only")
    result = _run(live_server, raw, bin_)
    assert result.returncode == 1
    assert "permission_denied" in result.stderr
    assert not Goods.objects.filter(sku="ERP-LIP-9").exists()
