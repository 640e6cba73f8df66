"""An approved email copy as campaign HTML: text escaped wherever it lands, paragraphs kept, only a #RRGGBB colour in
a style, Mailchimp's required footer tags present, the footer in the copy's language."""

from promptsales.domain_core.integrations.model.email_html import (
    ADDRESS_TAG,
    DEFAULT_ACCENT,
    UNSUBSCRIBE_TAG,
    EmailContent,
    campaign_html,
    paragraphs,
)


def content(**changes: object) -> EmailContent:
    values: dict[str, object] = {
        "subject": "Spring <b>sale</b>",
        "preheader": 'Save 20% "today" & more',
        "body": None,
        "from_name": "Acme <Team>",
    }
    values.update(changes)
    return EmailContent(**values)  # type: ignore[arg-type]


def test_every_piece_of_copy_is_escaped_and_the_required_footer_is_there() -> None:
    html = campaign_html(content(body="Hi *|FNAME|*,\n<img src=x onerror=alert(1)>"))
    assert "<b>" not in html and "<img" not in html and "<Team>" not in html
    assert "<title>Spring &lt;b&gt;sale&lt;/b&gt;</title>" in html
    assert "Save 20% &quot;today&quot; &amp; more</div>" in html  # the hidden preview text
    assert "Hi *|FNAME|*,<br>&lt;img src=x onerror=alert(1)&gt;" in html  # merge tags stay, HTML does not
    assert f'<a href="{UNSUBSCRIBE_TAG}"' in html and ADDRESS_TAG in html
    assert html.count("<script") == 0


def test_blank_lines_make_paragraphs_and_without_a_body_the_preheader_is_the_text() -> None:
    assert paragraphs("One\nline two\n\n\n  Three  \r\n\r\n") == ["One<br>line two", "Three"]
    assert paragraphs("  \n ") == []
    html = campaign_html(content())
    assert '24px;">Save 20% &quot;today&quot; &amp; more</p>' in html
    assert "Unsubscribe</a> from these emails." in html and 'lang="en"' in html


def test_only_a_hex_colour_reaches_a_style_and_the_footer_follows_the_language() -> None:
    assert "color:#0055FF" in campaign_html(content(accent_color="#0055FF"))
    hostile = campaign_html(content(accent_color="red;background:url(https://evil.example)"))
    assert "evil.example" not in hostile and f"color:{DEFAULT_ACCENT}" in hostile
    spanish = campaign_html(content(language="es"))
    assert 'lang="es"' in spanish and "Darse de baja</a> de estos correos." in spanish
    assert 'lang="en"' in campaign_html(content(language='en" onload="x'))
