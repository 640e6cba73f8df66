"""CSV rows become capture arguments; problems are reported with row numbers and fields."""

import pytest

from promptsales.domain_core.crm.service.imports import ImportRow, RowProblem, parse_rows, read_header
from promptsales.domain_core.shared.errors import ValidationFailed

CSV = (
    "Email,First Name,source,utm_source,employee_count,consent_email,tags,occurred_at\n"
    "ana@acme.com,Ana,web_form,google,250,yes,vip;b2b,2026-10-01T10:00:00+00:00\n"
    ",NoContact,web_form,,,,,\n"
    "bob@beta.io,Bob,carrier_pigeon,,,,,\n"
    "cy@gamma.io,Cy,,,many,,,\n"
    "di@delta.io,Di,,,,maybe,,\n"
    "\n"
    "ed@eps.io,Ed\n"
)


def test_rows_and_problems_with_row_numbers() -> None:
    items = list(parse_rows(CSV))
    good = [i for i in items if isinstance(i, ImportRow)]
    bad = {i.number: i for i in items if isinstance(i, RowProblem)}
    assert [g.number for g in good] == [1, 7]
    first = good[0].command
    assert first.email == "ana@acme.com" and first.first_name == "Ana"
    assert first.utm is not None and first.utm.source == "google" and first.employee_count == 250
    assert first.consent is not None and first.consent.email is not None and first.consent.email.granted is True
    assert first.tags == ["vip", "b2b"]
    assert good[1].command.source_channel == "import"
    assert bad[2].field == "email"
    assert bad[3].field == "source" and "carrier_pigeon" in bad[3].message
    assert bad[4].field == "employee_count"
    assert bad[5].field == "consent_email"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("first_name", "F" * 101, "first_name is longer than 100 characters"),
        ("campaign", "c" * 121, "campaign is longer than 120 characters"),
        ("utm_source", "u" * 201, "utm_source is longer than 200 characters"),
        ("tags", "ok;" + "t" * 61, "a tag is longer than 60 characters"),
        ("company_domain", "d" * 254, "company_domain is longer than 253 characters"),
    ],
)
def test_cells_longer_than_their_columns_are_reported_by_column(column: str, value: str, message: str) -> None:
    (problem,) = parse_rows(f"email,{column}\nx@y.com,{value}\n")
    assert isinstance(problem, RowProblem)
    assert problem.field == column
    assert message in problem.message


def test_same_row_content_gives_the_same_key() -> None:
    a = [i for i in parse_rows("email,first_name\nx@y.com,X\n") if isinstance(i, ImportRow)]
    b = [i for i in parse_rows("email,first_name\nx@y.com,X\nz@y.com,Z\n") if isinstance(i, ImportRow)]
    assert a[0].key == b[0].key != b[1].key


def test_header_needs_email_or_phone_and_reports_unknown_columns() -> None:
    with pytest.raises(ValidationFailed):
        read_header("name,company\nA,B\n")
    _, unknown = read_header("email,favourite_colour\n")
    assert unknown == ["favourite_colour"]
