"""Property tests: validate_svg never raises, whatever it is given."""

from __future__ import annotations

from hostile import INK, svg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svg import repair_svg, validate_svg
from svg.pathdata import PathDataError, parse_path_data

VALID = svg(f'<g fill="#000">{INK}<path d="M10 10 L90 90 C10 50 50 10 90 10 Z"/></g>')


@st.composite
def mutated_documents(draw):
    """A valid document with slices deleted, duplicated or replaced by random text."""
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 20)))
        text = text[:i] + draw(st.sampled_from(["", text[i:j] * 2, draw(st.text(max_size=8))])) + text[j:]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200), mutated_documents()))
def test_validate_never_raises(document):
    report = validate_svg(document, render=False)
    assert isinstance(report.ok, bool)
    report.to_dict()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="MmLlHhVvCcSsQqTtAaZz0123456789.,-+eE \n", max_size=60))
def test_path_lexer_only_raises_its_own_error(d):
    try:
        commands = parse_path_data(d)
    except PathDataError as err:
        assert 0 <= err.position <= len(d)
    else:
        assert all(isinstance(c, str) and all(isinstance(a, float) for a in args) for c, args in commands)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), mutated_documents()))
def test_repair_never_raises_and_its_output_parses(document):
    result = repair_svg(document, render=False)
    assert validate_svg(result.svg, render=False).codes in ([], ["blank"]) or not result.ok
