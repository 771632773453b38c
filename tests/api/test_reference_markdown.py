"""The API reference renders the markdown its descriptions are written in — escaped first, so a description can
never become markup of its own."""
from __future__ import annotations

from webapp.api.reference import inline, prose


def test_code_bold_links_and_paragraphs_are_rendered():
    html = prose("Send `X-API-Key` with **every** request; see [the guide](https://example.com/a?b=1&c=2).\n"
                 "Same paragraph.\n\nNext paragraph.")

    assert html == ('<p>Send <code>X-API-Key</code> with <strong>every</strong> request; see '
                    '<a href="https://example.com/a?b=1&amp;c=2">the guide</a>. Same paragraph.</p>'
                    "<p>Next paragraph.</p>")


def test_markup_in_a_description_is_shown_as_text_and_only_safe_links_become_links():
    html = str(inline('<script>alert(1)</script> `<b>code</b>` [x](javascript:alert(1)) '
                      '[y](https://e.com/"onmouseover="alert(1))'))

    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html
    assert "javascript:" not in html.split("[x]")[0] and "<a" not in html.split("[y]")[0]
    assert 'onmouseover="' not in html


def test_the_reference_page_shows_no_raw_backticks(staff_client):
    page = staff_client.get("/api/v1/docs/").get_data(as_text=True)

    assert "<code>X-API-Key</code>" in page and "with <code>schedule_at</code>" in page
    assert "`" not in page.split('<pre', 1)[0] + page.split("</pre>", 1)[1]
