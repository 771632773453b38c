"""Settings → Pricing as an admin meets it: Meta's CSV imported whatever its header's case and extra columns, a bad
file refused with its reason and nothing changed, one price edited; staff are refused."""
from __future__ import annotations

import io

import pytest

from tests.conftest import post

pytestmark = pytest.mark.only_on("sqlite")  # pages and forms: the services' queries run on both in tests/campaigns


def _import(client, text: str):
    return post(client, "/settings/pricing/import", {"file": (io.BytesIO(text.encode()), "rates.csv"),
                                                     "source": "Meta USD card", "effective_date": "2026-01-01"},
                content_type="multipart/form-data")


def test_an_admin_imports_metas_csv_and_a_bad_file_changes_nothing(admin_client):
    page = admin_client.get("/settings/pricing").get_data(as_text=True)
    assert "effective 2025-07-01" in page and "Meta&#39;s list prices" in page
    assert "<th scope=\"row\">India</th><td class=\"num mono\">0.0107</td>" in page

    missing = _import(admin_client, "Market,Currency,Marketing,Authentication,Service\nIndia,USD,0.02,0.01,0\n")
    assert missing.status_code == 422 and "The header lacks the column Utility." in missing.get_data(as_text=True)
    bad = _import(admin_client, "Market,Currency,Marketing,Utility,Authentication,Service\n"
                                "India,USD,0.02,0.01,0.01,0\nAtlantis,USD,0.02,0.01,0.01,0\nBrazil,USD,cheap,0,0,0\n")
    said = bad.get_data(as_text=True)
    assert "Line 3: “Atlantis” is neither one of Meta&#39;s markets" in said
    assert "Line 4: “cheap” is not a price" in said
    assert "<td class=\"num mono\">0.0107</td>" in said  # unchanged

    good = _import(admin_client, "WhatsApp rate card, USD\n\nMARKET,currency,Marketing,Utility,Authentication,"
                                 "Authentication-International,Service\nIndia,USD,0.0118,0.0015,0.0015,0.028,0\n"
                                 "Other,USD,$0.0600,0.0080,0.0080,n/a,\n")
    assert good.status_code == 302
    page = admin_client.get("/settings/pricing").get_data(as_text=True)
    assert "The rate card now has 2 markets, in USD." in page
    assert "effective 2026-01-01. Source: Meta USD card" in page
    assert "<th scope=\"row\">Brazil</th>" not in page and "<td class=\"num mono\">0.0118</td>" in page

    assert post(admin_client, "/settings/pricing/price", {"market": "xk", "category": "marketing",
                                                          "price": "0.05"}).status_code == 302
    page = admin_client.get("/settings/pricing").get_data(as_text=True)
    assert "XK: marketing is now 0.05 per message." in page and "(edited)" in page
    refused = post(admin_client, "/settings/pricing/price", {"market": "India", "category": "utility", "price": "-1"})
    assert refused.status_code == 422 and "not a price per message" in refused.get_data(as_text=True)


def test_staff_cannot_see_or_change_pricing(staff_client):
    assert staff_client.get("/settings/pricing").status_code == 403
    assert post(staff_client, "/settings/pricing/budget", {"monthly_budget": "100"}).status_code == 403
    assert post(staff_client, "/settings/pricing/price", {"market": "India", "category": "utility",
                                                          "price": "0"}).status_code == 403
