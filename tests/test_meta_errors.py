"""Meta's errors in plain words: every code the product acts on is explained to a shop owner, with what to do."""
from __future__ import annotations

import pytest

from webapp.meta_errors import EXPLANATIONS, POLICY, MetaError, explain, pause_notice


@pytest.mark.parametrize("code", sorted(POLICY))
def test_every_error_code_the_product_knows_has_a_one_line_explanation_and_what_to_do(code):
    assert code in EXPLANATIONS, f"error {code} is in POLICY but has no explanation in EXPLANATIONS"
    why = explain(code, "order_update (en_US)")
    assert why.summary.endswith(".") and why.action.endswith(".")
    assert len(str(why)) <= 200, "one line for a shop owner, not Meta's paragraph"
    assert "{" not in str(why)


def test_an_undeliverable_number_is_explained_as_nothing_to_do():
    assert str(explain(131026)) == ("This number can't receive the message — it may not use WhatsApp or may have an "
                                    "old app. Nothing to do; it won't be retried.")


def test_a_template_error_names_the_template_when_known():
    assert explain(132016, "promo (en)").summary == "Meta disabled the template promo (en)."
    assert explain(132016).summary == "Meta disabled the template."


def test_a_code_meta_added_since_is_still_explained_with_its_number():
    assert explain(999999).summary == "Meta refused this message (error 999999)."


def test_the_pause_notice_says_what_happened_and_what_to_do_before_metas_own_words():
    notice = pause_notice(MetaError(190, "Access token expired", "Session has expired on Tuesday"), "promo (en)")
    assert notice == ("Paused: The sender number's access token is wrong or has expired. Update it in Settings → "
                      "Sender numbers, then resume the campaign. (Meta: error 190: Access token expired — "
                      "“Session has expired on Tuesday”.)")
