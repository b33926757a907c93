"""More export formats, checked with real readers: the JSON archive (schema, round trip into an
empty database, import errors), XLSX and CSV (openpyxl, csv), PDF/A (pypdf) and DOCX
(LibreOffice converts it)."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import jsonschema
import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from workshop import create_app, documents, domain, queries, services
from workshop.extensions import db
from workshop.models import Workshop

from .builders import HOSTILE, build_workshop
from .conftest import alerts, table_rows

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "archive-schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def built(app: Flask) -> int:
    return build_workshop(app)


def _archive(app: Flask, workshop_id: int) -> dict[str, Any]:
    with app.app_context():
        return queries.export_archive(db.session.get(Workshop, workshop_id))


def _document(app: Flask, workshop_id: int) -> domain.DecisionDocument:
    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        return domain.consolidate(queries.workshop_record(workshop, "2019-09-01"))


@pytest.fixture
def empty_app(tmp_path: Path) -> Iterator[Flask]:
    """A second app on a new, empty SQLite file: no facilitator, no workshop."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}",
            "SECRET_KEY": "test",
            "PUBLIC_URL": "http://mote.example:5000",
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- JSON archive -----------------------------------------------------------------------------


def test_archive_follows_its_published_schema(app: Flask, built: int) -> None:
    archive = _archive(app, built)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(archive)
    assert archive["archive_version"] == 1
    goal2 = archive["goals"][1]
    assert [p["number"] for p in goal2["proposals"]] == [1, 2, 3, 4, 5, 6, 7]
    assert goal2["proposals"][0]["original"]["target_value"] == "93,2 %"  # edit history
    assert [p["merged_into"] for p in goal2["proposals"][1:3]] == [7, 7]  # merge history
    assert goal2["decision"]["proposal"] == 1
    assert len(goal2["rounds"][0]["ballots"]) == 5
    assert archive["goals"][5]["decision"]["kind"] == "inriktningsmal"
    assert [f["checkpoint"] for f in goal2["follow_ups"]] == ["2019-04-30", "2019-08-31"]
    assert {"text": "Se över nyckeltalen i Kolada", "goal": 1} == {
        k: archive["parking"][1][k] for k in ("text", "goal")
    }
    assert archive["parking"][0]["source_proposal"] == {"goal": 1, "number": 6}
    assert any(entry["action"] == "decision" for entry in archive["audit"])


def test_archive_round_trip_into_an_empty_database(
    app: Flask, built: int, empty_app: Flask
) -> None:
    """Export, import into an empty database, export again: equal but for exported_at."""
    first = _archive(app, built)
    with empty_app.app_context():
        imported = services.import_archive(json.loads(json.dumps(first)))
        new_id = imported.id
    second = _archive(empty_app, new_id)
    first.pop("exported_at")
    second.pop("exported_at")
    assert second == first
    # The proposal for decision made from the copy is the same document.
    assert _document(empty_app, new_id) == _document(app, built)


def test_archive_ballots_carry_no_link_to_a_person(app: Flask) -> None:
    """Even in named mode a ballot is its answers only, and no token or secret is archived."""
    workshop_id = build_workshop(app, anonymous=False)
    archive = _archive(app, workshop_id)
    text = json.dumps(archive, ensure_ascii=False)
    for goal in archive["goals"]:
        for vote_round in goal["rounds"]:
            for ballot in vote_round["ballots"]:
                assert all(key.isdigit() for key in ballot)
    assert "telefonens-hemlighet" not in text
    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        assert workshop.join_code not in text
        assert workshop.screen_key not in text


def _broken(archive: dict[str, Any], change: Any) -> dict[str, Any]:
    copied = copy.deepcopy(archive)
    change(copied)
    return copied


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.update(archive_version=2), "Arkivversion 2 kan inte läsas in"),
        (lambda a: a["workshop"].pop("title"), "Arkivet saknar fältet title i workshop."),
        (
            lambda a: a["goals"][1]["proposals"][0].update(number="ett"),
            "Fel typ i arkivet vid goals[1].proposals[0].number: ska vara ett heltal.",
        ),
        (
            lambda a: a["goals"][1]["proposals"][0].update(kind="beslut"),
            "Ogiltigt värde i arkivet vid goals[1].proposals[0].kind.",
        ),
        (
            lambda a: a["goals"][1].update(extra=1),
            "Arkivet har ett okänt fält i goals[1].",
        ),
        (
            lambda a: a["goals"][1]["decision"].update(proposal=99),
            "Arkivet hänvisar till något som inte finns: goals[1].decision.proposal F99.",
        ),
        (lambda a: a.clear(), "Filen är inte ett arkiv från Målverkstad."),
    ],
)
def test_import_refuses_a_broken_archive_in_swedish(
    app: Flask, built: int, empty_app: Flask, change: Any, message: str
) -> None:
    archive = _broken(_archive(app, built), change)
    before = table_rows(empty_app)
    with empty_app.app_context(), pytest.raises(domain.DomainError) as caught:
        services.import_archive(archive)
    assert (caught.value.message % caught.value.params).startswith(message)
    assert table_rows(empty_app) == before


def test_import_and_export_over_http(
    app: Flask, built: int, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    response = client.get(f"/f/{built}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert 'filename="arkiv-KS-2018-109-' in response.headers["Content-Disposition"]
    upload = {"archive": (io.BytesIO(response.data), "arkiv.json")}
    imported = client.post("/f/importera", data=upload, content_type="multipart/form-data")
    assert imported.status_code == 302
    new_id = int(imported.headers["Location"].split("/")[2])
    assert new_id != built
    assert client.get(f"/f/{new_id}/sammanstallning").status_code == 200

    bad = {"archive": (io.BytesIO(b'{"archive_version": 1}'), "arkiv.json")}
    refused = client.post("/f/importera", data=bad, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "Arkivet saknar fältet" in alerts(refused.get_data(as_text=True))
    garbage = {"archive": (io.BytesIO(b"\xff\xfe inte json"), "arkiv.json")}
    refused = client.post("/f/importera", data=garbage, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "inte en JSON-fil" in alerts(refused.get_data(as_text=True))


# --- XLSX and CSV -----------------------------------------------------------------------------


def test_xlsx_has_every_proposal_and_raw_count(app: Flask, built: int) -> None:
    doc = _document(app, built)
    book = openpyxl.load_workbook(io.BytesIO(documents.render_xlsx(doc)))
    assert book.sheetnames == ["Mål", "Förslag", "Röstresultat"]
    goals = list(book["Mål"].iter_rows(values_only=True))
    assert goals[0] == ("Mål", "Målområde", "Lydelse", "Status")
    assert [row[3] for row in goals[1:]] == [g.status_text for g in doc.goals]
    assert goals[5][3] == "Behandlad utan förslag till beslut"  # goal 5: a proposal, no decision
    proposals = list(book["Förslag"].iter_rows(values_only=True))
    header, rows = proposals[0], proposals[1:]
    assert header[:5] == ("Mål", "Målets status", "Förslag", "Typ", "Status")
    assert len(rows) == 7 + 1 + 2  # goal 2, goal 5, goal 6
    by_label = {(r[0], r[2]): dict(zip(header, r, strict=True)) for r in rows}
    assert {(r[0], r[1]) for r in rows} == {
        ("2", "Ambitionsnivå"),
        ("5", "Behandlad utan förslag till beslut"),
        ("6", "Inriktningsmål — ingen prognos"),
    }
    f1 = by_label[("2", "F1")]
    assert f1["Målvärde"] == "93,5 %"
    assert f1["Resurser finns"] == "Delvis"
    assert by_label[("2", "F2")]["Sammanslaget i"] == "F7"
    assert by_label[("2", "F7")]["Sammanslaget av"] == "F2, F3"
    assert by_label[("2", "F5")]["Skäl"] == "Dubblett av F1"
    assert by_label[("2", "F3")]["Förslagsställare"] == "Samtalsledaren"
    hostile = book["Förslag"].cell(row=5, column=6)
    assert hostile.value == HOSTILE and hostile.data_type == "s"  # text, never a formula

    tallies = list(book["Röstresultat"].iter_rows(values_only=True))
    head = tallies[0]
    counts = [dict(zip(head, row, strict=True)) for row in tallies[1:]]
    f1_yes_no = {c["Svar"]: c["Antal"] for c in counts if c["Mål"] == "2" and c["Förslag"] == "F1"}
    assert f1_yes_no == {"Ja": 4, "Nej": 1, "Avstår": 0}
    criteria = [c for c in counts if c["Mål"] == "6"]
    assert {c["Antal röster i omröstningen"] for c in criteria} == {3}
    assert sum(c["Antal"] for c in criteria) == 2 * 3 * 3  # 2 proposals, 3 criteria, 3 voters


def test_csv_is_the_proposal_table_for_swedish_excel(app: Flask, built: int) -> None:
    doc = _document(app, built)
    body = documents.render_csv(doc)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Mål", "Målets status", "Förslag", "Typ", "Status"]
    assert len(rows) == 1 + 10
    assert all(len(row) == len(rows[0]) for row in rows)
    hostile = next(row for row in rows if row[2] == "F4" and row[0] == "2")
    assert hostile[1] == "Ambitionsnivå"
    assert hostile[5] == "'" + HOSTILE  # a spreadsheet shows it, never runs it


@pytest.mark.parametrize(
    ("ext", "mimetype"),
    [
        ("xlsx", documents.XLSX_MIMETYPE),
        ("csv", "text/csv"),
        ("pdf", "application/pdf"),
    ],
)
def test_download_routes(
    app: Flask, built: int, client: FlaskClient, auth: Any, ext: str, mimetype: str
) -> None:
    auth.login()
    response = client.get(f"/f/{built}/export.{ext}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert f'.{ext}"' in response.headers["Content-Disposition"]


# --- PDF/A ------------------------------------------------------------------------------------


def _font_descriptors(reader: PdfReader) -> list[tuple[str, Any]]:
    found = []
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            found.append((str(font["/BaseFont"]), descriptor.get_object() if descriptor else {}))
    return found


def check_archival_pdf(body: bytes, lang: str = "sv") -> PdfReader:
    """Check what a PDF/A-2b reader relies on: XMP id, embedded fonts, tags and language."""
    assert body.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(body))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="2"' in xmp or "<pdfaid:part>2</pdfaid:part>" in xmp
    assert 'pdfaid:conformance="B"' in xmp or "<pdfaid:conformance>B" in xmp
    assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == lang
    fonts = _font_descriptors(reader)
    assert fonts
    for name, descriptor in fonts:
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), name
    return reader


def test_pdf_is_tagged_pdfa_with_embedded_fonts(app: Flask, built: int) -> None:
    doc = _document(app, built)
    reader = check_archival_pdf(documents.render_pdf(doc))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert doc.title.split()[0] in flat
    assert "Ej behandlad i dialogen" in flat
    assert "Inriktningsmål — ingen prognos" in flat
    assert "<script>alert(1)</script>" in flat  # shown as text, not markup
    assert "Bilaga: Alla förslag och röstresultat" in flat
    assert "Logg" not in flat and "UTC" not in flat  # the log is its own document
    assert reader.metadata.title == doc.title


def test_the_log_is_its_own_archival_pdf(app: Flask, built: int) -> None:
    with app.app_context():
        record = queries.workshop_record(db.session.get(Workshop, built), "2019-09-01")
    log = domain.audit_log_document(record)
    assert log.entries == record.audit and len(log.entries) > 10
    assert documents.LOG_FORMATS["pdf"].filename(log, "pdf") == "logg-KS-2018-109-2019-09-01.pdf"
    reader = check_archival_pdf(documents.render_log_pdf(log))
    flat = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Sparade beslut för ett mål: Mål 2, F1" in flat
    assert "Tid (UTC) Vem Åtgärd" in flat
    assert reader.metadata.title == log.title


HEADINGS = frozenset({"h1", "h2", "h3", "h4"})


def _lines(box: Any, tags: tuple[str, ...] = ()) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """Every line box of a laid-out page in reading order, with its elements' tags."""
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.MarginBox):  # the running header and the page number
        return
    tags = (*tags, box.element_tag) if getattr(box, "element_tag", None) else tags
    if isinstance(box, boxes.LineBox):
        yield box, tags
        return
    for child in getattr(box, "children", ()):
        yield from _lines(child, tags)


def last_lines(html: str) -> list[tuple[str, ...]]:
    """For each page of the laid-out ``html``: the tags around its last line of text."""
    from weasyprint import HTML

    layout = HTML(string=html, base_url=str(documents.pdf.TEMPLATES)).render()
    return [list(_lines(page._page_box))[-1][1] for page in layout.pages]


def test_pdf_pages_say_sida_x_of_y_and_no_heading_ends_a_page(app: Flask) -> None:
    """ "Sida 1 (n)" in the footer; WeasyPrint's own layout has no page ending in a heading."""
    workshop_id = build_workshop(app, voters=12)
    doc = _document(app, workshop_id)
    reader = PdfReader(io.BytesIO(documents.render_pdf(doc)))
    pages = len(reader.pages)
    assert pages > 3
    assert f"Sida 1 ({pages})" in reader.pages[0].extract_text()
    assert f"Sida {pages} ({pages})" in reader.pages[-1].extract_text()
    ends = last_lines(documents.render_html(doc))
    assert len(ends) == pages
    assert not [(n, tags) for n, tags in enumerate(ends, 1) if HEADINGS & set(tags)]


def test_the_log_pdf_repeats_its_table_header_on_every_page(app: Flask, built: int) -> None:
    with app.app_context():
        record = queries.workshop_record(db.session.get(Workshop, built), "2019-09-01")
    record.audit = record.audit * 8  # long enough for several pages
    reader = PdfReader(io.BytesIO(documents.render_log_pdf(domain.audit_log_document(record))))
    assert len(reader.pages) > 1
    for page in reader.pages:
        assert "Tid (UTC) Vem Åtgärd" in " ".join(page.extract_text().split())


def test_pdf_is_english_in_english(app: Flask, built: int) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask_babel import gettext

        record = queries.workshop_record(db.session.get(Workshop, built), "2019-09-01", gettext)
        doc = domain.consolidate(record, gettext)
        body = documents.render_pdf(doc, gettext, "en")
    reader = check_archival_pdf(body, lang="en")
    assert "Proposal for decision" in " ".join(reader.pages[0].extract_text().split())


# --- DOCX opened by LibreOffice ---------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(tmp_path: Path, name: str, body: bytes) -> Path:
    """Convert a DOCX to PDF with LibreOffice; fail if it cannot open the file."""
    if SOFFICE is None:
        pytest.skip(
            "LibreOffice (libreoffice-writer-nogui) is not installed; scripts/test.sh installs it"
        )
    source = tmp_path / name
    source.write_bytes(body)
    out = tmp_path / "out"
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    result = subprocess.run(
        [
            SOFFICE,
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    converted = out / (source.stem + ".pdf")
    assert result.returncode == 0 and converted.exists(), result.stdout + result.stderr
    return converted


def test_libreoffice_opens_the_docx(app: Flask, built: int, tmp_path: Path) -> None:
    doc = _document(app, built)
    pdf = convert_with_libreoffice(tmp_path, "forslag.docx", documents.render_docx(doc))
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())
    assert "Förslag till beslut" in text
    assert "Ej behandlad i dialogen" in text


def test_libreoffice_opens_the_follow_up_docx(app: Flask, built: int, tmp_path: Path) -> None:
    with app.app_context():
        record = queries.workshop_record(db.session.get(Workshop, built), "2019-09-01")
    report = domain.follow_up_report(record)
    pdf = convert_with_libreoffice(
        tmp_path, "uppfoljning.docx", documents.render_follow_up_docx(report)
    )
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())
    assert "Uppfylls delvis" in text
    # And python-docx reads it too.
    word = docx.Document(io.BytesIO(documents.render_follow_up_docx(report)))
    assert word.paragraphs
