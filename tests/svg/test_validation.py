"""validate_svg: valid icons pass, broken ones get located codes, hostile ones are rejected safely."""

from __future__ import annotations

import socket
import threading

import pytest
from hostile import INK, hostile_documents, svg

from svg import validate_svg

HEART = svg('<path d="M50 85 L15 50 C0 30 30 5 50 30 C70 5 100 30 85 50 Z" fill="#e11d48"/>')


@pytest.fixture(scope="module")
def trap():
    """A canary file and a listening port; hostile documents name both, nothing may touch them."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    hits: list[str] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
                hits.append("connection")
                connection.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], hits
    stop.set()
    thread.join(2)
    listener.close()


def test_a_valid_icon_passes_with_stats():
    report = validate_svg(HEART)
    assert report.ok, report.errors
    assert report.stats.paths == 1 and report.stats.commands == 5 and report.stats.colors == ["#e11d48"]
    assert report.stats.viewbox == (0, 0, 100, 100)
    x0, _, x1, y1 = report.stats.bbox
    assert 10 <= x0 < 20 and 80 < x1 <= 90 and y1 <= 90
    assert 0.2 < report.stats.ink_fraction < 0.6


@pytest.mark.parametrize(
    ("document", "code", "location"),
    [
        ("<svg", "not-xml", None),
        ("", "empty", None),
        (svg('<path d="M1 1 L2"/>' + INK), "bad-path", "/svg/path[1]"),
        (svg("", 'viewBox="0 0 0 10"') , "bad-viewbox", "/svg"),
        (svg('<rect width="10" height="10" fill="#fff" opacity="0"/>'), "blank", "/svg"),
        (svg('<rect x="200" y="200" width="10" height="10" fill="#000"/>'), "blank", "/svg"),
    ],
)
def test_broken_documents_get_located_codes(document, code, location):
    report = validate_svg(document)
    assert not report.ok and code in report.codes, report.errors
    issue = next(e for e in report.errors if e.code == code)
    assert issue.location == location and issue.message


def test_never_raises_on_odd_input():
    for odd in (None, 3, b"\xff\xfe\x00", "<?xml version='1.0' encoding='bogus'?><svg/>", "\x00" * 10):
        report = validate_svg(odd)
        assert not report.ok


def test_foreign_metadata_warns_but_misspellings_fail():
    document = svg(f'<inkscape:foo xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"/>{INK}')
    report = validate_svg(document)
    assert report.ok and {w.code for w in report.warnings} == {"foreign-element"}
    misspelled = validate_svg(svg('<rectt width="9" height="9"/><rect width="9" height="9" strokeWidth="2" fil="#000"/>'))
    assert misspelled.codes == ["misspelled-attribute", "unknown-element"]
    stray = validate_svg(svg(f'{INK} rect x="1" y="1" width="5" height="5"/>'))
    assert stray.codes == ["stray-text"]


def test_data_images_only_when_allowed():
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    document = svg(f'<image href="{png}" width="10" height="10"/>{INK}')
    assert validate_svg(document).codes == ["data-uri"]
    assert validate_svg(document, allow_data_images=True).ok


@pytest.mark.timeout(120)
def test_hostile_corpus_is_rejected_without_touching_files_or_network(tmp_path, trap):
    port, hits = trap
    canary = tmp_path / "canary.txt"
    canary.write_text("SECRET")
    corpus = hostile_documents(str(canary), port)
    assert len(corpus) >= 20
    for name, (document, codes) in corpus.items():
        report = validate_svg(document)
        assert not report.ok, name
        assert set(report.codes) & codes, f"{name}: expected one of {codes}, got {report.codes}"
        assert "SECRET" not in str(report.to_dict()), name
    assert hits == [], "a hostile document made something connect to the trap port"
