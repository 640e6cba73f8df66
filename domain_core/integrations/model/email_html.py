"""An approved email copy as the HTML of a campaign: every text escaped, one simple layout, the required footer.

The layout is the conservative one email clients render alike: a 600 px table, inline styles only, no script,
no external stylesheet, no image. The subject is repeated as the headline; the preheader is the hidden preview
text clients show after the subject; the body's blank lines make paragraphs and single line breaks stay breaks.
The brand's first colour (a ``#RRGGBB`` value, nothing else is accepted) colours the headline and the rule.

Every piece of copy goes through :func:`html.escape` (``quote=True``), so ``<``, ``>``, ``&`` and quotes in the
copy are shown, never interpreted. Mailchimp merge tags in the copy (``*|FNAME|*``) are left as written: they are
plain text to HTML and personalise the message.

The footer carries what Mailchimp requires of every campaign: the ``*|UNSUB|*`` merge tag in a link (Mailchimp adds
a footer of its own when it finds none) and the audience's physical address (``*|HTML:LIST_ADDRESS_HTML|*``), with
the permission reminder ``*|LIST:DESCRIPTION|*`` — the footer code of Mailchimp's help, "Customize your footer
content" https://mailchimp.com/help/customize-your-footer-content/ and "About email footers"
https://mailchimp.com/help/about-campaign-footers/ [~ current wording; the tags are Mailchimp's documented ones].
"""

import html
import re
from dataclasses import dataclass

UNSUBSCRIBE_TAG = "*|UNSUB|*"  # Mailchimp's unsubscribe link merge tag (required in every campaign) [~]
ADDRESS_TAG = "*|HTML:LIST_ADDRESS_HTML|*"  # the audience's physical address (anti-spam laws) [~]
PERMISSION_TAG = "*|LIST:DESCRIPTION|*"  # the audience's permission reminder [~]
DEFAULT_ACCENT = "#1A1A1A"
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,4})?")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# The footer's own words in the languages copy is written in (content's ``en`` and ``es``); English otherwise.
FOOTER_WORDS: dict[str, tuple[str, str, str]] = {
    "en": ("Unsubscribe", "from these emails.", "Our mailing address is:"),
    "es": ("Darse de baja", "de estos correos.", "Nuestra dirección postal es:"),
}


@dataclass(frozen=True, slots=True)
class EmailContent:
    """The words of one email, as approved."""

    subject: str
    preheader: str | None
    body: str | None
    from_name: str
    language: str = "en"
    accent_color: str | None = None


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def paragraphs(text: str) -> list[str]:
    """The body's paragraphs (blank lines between them), each escaped, its single line breaks as ``<br>``."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        return []
    return [
        "<br>".join(_escape(line.strip()) for line in block.strip().split("\n"))
        for block in _PARAGRAPH_BREAK.split(normalised)
        if block.strip()
    ]


def accent(color: str | None) -> str:
    """The brand colour when it is a ``#RRGGBB`` value, else a neutral one (nothing else reaches a style)."""
    return color if color is not None and _HEX.fullmatch(color) else DEFAULT_ACCENT


def campaign_html(content: EmailContent) -> str:
    """The campaign's HTML document. What the body says: its paragraphs, or the preheader when it has none."""
    language = content.language if _LANGUAGE.fullmatch(content.language or "") else "en"
    unsubscribe, these_emails, address = FOOTER_WORDS.get(language.split("-")[0], FOOTER_WORDS["en"])
    color = accent(content.accent_color)
    shown = paragraphs(content.body or "") or paragraphs(content.preheader or "")
    text = "\n".join(
        f'<p style="margin:0 0 16px 0;font-size:16px;line-height:24px;">{paragraph}</p>' for paragraph in shown
    )
    preview = (
        f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">{_escape(content.preheader)}</div>\n'
        if content.preheader
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{language}">\n'
        '<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_escape(content.subject)}</title>\n</head>\n"
        '<body style="margin:0;padding:0;background-color:#F4F4F4;">\n'
        f"{preview}"
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="background-color:#F4F4F4;">\n<tr><td align="center" style="padding:24px 12px;">\n'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" '
        'style="max-width:600px;width:100%;background-color:#FFFFFF;font-family:Arial,Helvetica,sans-serif;'
        'color:#222222;">\n'
        f'<tr><td style="height:4px;background-color:{color};font-size:0;line-height:0;">&nbsp;</td></tr>\n'
        '<tr><td style="padding:32px 32px 16px 32px;">\n'
        f'<h1 style="margin:0 0 24px 0;font-size:24px;line-height:32px;color:{color};">'
        f"{_escape(content.subject)}</h1>\n"
        f"{text}\n"
        f'<p style="margin:24px 0 0 0;font-size:16px;line-height:24px;">{_escape(content.from_name)}</p>\n'
        "</td></tr>\n"
        '<tr><td style="padding:16px 32px 32px 32px;font-size:12px;line-height:18px;color:#666666;">\n'
        f"{PERMISSION_TAG}<br>\n"
        f'<a href="{UNSUBSCRIBE_TAG}" style="color:#666666;">{unsubscribe}</a> {these_emails}<br>\n'
        f"{address}<br>\n{ADDRESS_TAG}\n"
        "</td></tr>\n</table>\n</td></tr>\n</table>\n</body>\n</html>\n"
    )
