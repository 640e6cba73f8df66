"""PKCE (RFC 7636) and OAuth state values."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptsales.domain_core.integrations.model.pkce import (
    PkcePair,
    code_challenge_s256,
    new_code_verifier,
    new_state,
)


def test_rfc7636_appendix_b_vector() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge_s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_generated_verifiers_are_valid_unique_and_hidden_from_repr() -> None:
    pairs = [PkcePair.generate() for _ in range(50)]
    assert len({pair.verifier for pair in pairs}) == 50
    for pair in pairs:
        assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", pair.verifier)
        assert pair.method == "S256"
        assert pair.matches(pair.verifier)
        assert pair.verifier not in repr(pair)
    assert not pairs[0].matches(pairs[1].verifier)
    assert not pairs[0].matches("short")


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 43 + "/"])
def test_invalid_verifiers_are_refused(verifier: str) -> None:
    with pytest.raises(ValueError):
        code_challenge_s256(verifier)


@given(st.integers(min_value=32, max_value=96))
def test_verifier_length_follows_entropy(nbytes: int) -> None:
    verifier = new_code_verifier(nbytes)
    assert 43 <= len(verifier) <= 128
    assert len(code_challenge_s256(verifier)) == 43


def test_state_is_url_safe_and_unguessable() -> None:
    states = {new_state() for _ in range(100)}
    assert len(states) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", state) for state in states)
    with pytest.raises(ValueError):
        new_state(8)
