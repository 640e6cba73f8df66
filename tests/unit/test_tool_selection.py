"""Tool selections (parsing, how sources combine) and the compact search ranking, checked by hand."""

import math

import pytest

from promptsales.servers.compact import Card, rank, summary, words
from promptsales.servers.toolsets import Selection, View, parse_flag, parse_selection, path_selection, request_selection

KNOWN = {"crm_capture_lead", "crm_get_lead", "content_check_copy", "business_list_plans"}


def test_a_selection_names_toolsets_or_tools_and_read_only_removes_writes() -> None:
    selection = parse_selection(toolsets="crm, content", tools="business_list_plans")
    assert selection == Selection(toolsets=frozenset({"crm", "content"}), tools=frozenset({"business_list_plans"}))
    assert selection.allows("crm_capture_lead", "crm", read_only=False)
    assert selection.allows("business_list_plans", "business", read_only=True)  # named outright
    assert not selection.allows("business_get_usage", "business", read_only=True)
    reads = parse_selection(tools="crm_capture_lead,crm_get_lead", read_only="true")
    assert reads is not None
    assert not reads.allows("crm_capture_lead", "crm", read_only=False)  # named, but it writes
    assert reads.allows("crm_get_lead", "crm", read_only=True)


def test_nothing_selected_is_none_and_bad_values_name_the_option() -> None:
    assert parse_selection() is None
    assert parse_selection(toolsets=" , ", read_only="false") is None
    with pytest.raises(ValueError, match=r"toolsets: unknown \['sales'\]"):
        parse_selection(toolsets="crm,sales")
    with pytest.raises(ValueError, match="crm_typo"):
        parse_selection(tools="crm_get_lead,crm_typo", known_tools=KNOWN)
    assert parse_selection(tools="crm_typo") is not None  # no catalogue given: not checked
    with pytest.raises(ValueError, match="mode"):
        parse_selection(mode="tiny")
    with pytest.raises(ValueError, match="read_only"):
        parse_flag("maybe", field="read_only")
    assert [parse_flag(v, field="f") for v in ("1", "TRUE", "yes", "on", "0", "off", "", None, True)] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        True,
    ]


def test_every_source_of_a_view_must_allow_a_tool() -> None:
    server = parse_selection(read_only=True)
    by_path = path_selection("crm")
    by_request = parse_selection(tools="crm_get_lead,content_check_copy")
    view = View().narrowed(server, by_path, by_request, None)
    assert len(view.selections) == 3 and view.read_only and view.narrows and not view.compact
    assert view.allows("crm_get_lead", "crm", read_only=True)
    assert not view.allows("content_check_copy", "content", read_only=True)  # outside the CRM endpoint
    assert not view.allows("crm_list_leads", "crm", read_only=True)  # not among the named tools
    assert View().allows("anything", None, read_only=False) and not View().narrows
    compact = View().narrowed(path_selection("compact"))
    assert compact.compact and not compact.narrows
    assert path_selection("sales") is None


def test_query_and_headers_merge_into_one_request_selection() -> None:
    selection = request_selection(
        {"toolsets": ["crm"], "tools": ["business_list_plans"]},
        {"x-mcp-toolsets": "content", "x-mcp-readonly": "1", "x-mcp-mode": "compact"},
        known_tools=KNOWN,
    )
    assert selection == Selection(
        toolsets=frozenset({"crm", "content"}), tools=frozenset({"business_list_plans"}), read_only=True, compact=True
    )
    assert request_selection({}, {}) is None
    assert request_selection({"readonly": ["yes"]}, {}) == Selection(read_only=True)
    with pytest.raises(ValueError, match="read_only"):
        request_selection({"read_only": ["true"]}, {"x-mcp-readonly": "perhaps"})


CARDS = [
    Card("crm_capture_lead", "Capture a lead from a form."),
    Card("crm_get_lead", "Read one lead."),
    Card("content_check_copy", "Check copy against the brand kit."),
]


def test_rank_weighs_rare_words_and_names_over_descriptions() -> None:
    # "capture" is in 1 of 3 tools, "lead" in 2: idf = ln(1 + 3/1) and ln(1 + 3/2); a name match counts 3x.
    capture, lead = math.log(4), math.log(2.5)
    assert 3 * capture + 3 * lead > 3 * lead  # crm_capture_lead beats crm_get_lead
    assert [c.name for c in rank(CARDS, "capture lead", 10)] == ["crm_capture_lead", "crm_get_lead"]
    assert [c.name for c in rank(CARDS, "capture leads", 1)] == ["crm_capture_lead"]
    # copy: 3*ln4 = 4.16 for content_check_copy; lead: 3*ln2.5 = 2.75 for both lead tools, tie broken by name.
    assert [c.name for c in rank(CARDS, "copy lead", 10)] == ["content_check_copy", "crm_capture_lead", "crm_get_lead"]
    assert [c.name for c in rank(CARDS, "brand", 10)] == ["content_check_copy"]  # description only
    assert rank(CARDS, "invoice", 10) == [] and rank(CARDS, "", 10) == []
    # A name match (3 ln 2) outranks a description match (ln 2) of the same word, whatever the alphabet says.
    pair = [Card("alpha_tool", "Mentions beta."), Card("beta_tool", "Something else.")]
    assert [c.name for c in rank(pair, "beta", 10)] == ["beta_tool", "alpha_tool"]


def test_words_and_summaries() -> None:
    assert words("crm_search_Companies, leads & address; a") == {"crm", "search", "company", "lead", "address"}
    assert summary("First line.\nSecond line.") == "First line."
    long = summary("x" * 500)
    assert len(long) == 160 and long.endswith("…")
    assert summary(None) == ""
