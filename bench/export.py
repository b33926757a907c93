"""Time every export of a large workshop: 100 proposals and 10,000 votes (ballots).

Builds the workshop in a temporary SQLite database through the services (as a dialogue would:
1,250 phones vote ja/nej on every proposal of each of the 8 goals), then times consolidation
and each format. Prints the figures; nothing is asserted.

    /tmp/venv/bin/python bench/export.py [--ballots 10000] [--proposals 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workshop import create_app, documents, domain, queries, services  # noqa: E402
from workshop.extensions import db  # noqa: E402
from workshop.models import Workshop  # noqa: E402


def build(app: Any, proposals: int, ballots: int) -> int:
    with app.app_context(), services.acting_as(services.Actor("bench", None)):
        workshop = services.create_from_template()
        wid = workshop.id
        services.start_workshop(wid)
        goal_ids = [g.id for g in db.session.get(Workshop, wid).goals]
        people = [
            services.join(db.session.get(Workshop, wid), None, f"Ledamot {n}")
            for n in range(ballots // len(goal_ids))
        ]
        per_goal = [proposals // len(goal_ids)] * len(goal_ids)
        for i in range(proposals % len(goal_ids)):
            per_goal[i] += 1
        for goal_id, count in zip(goal_ids, per_goal, strict=True):
            services.select_goal(wid, goal_id)
            services.set_phase(wid, goal_id, "forslag")
            for n in range(count):
                services.add_proposal(
                    wid,
                    goal_id,
                    {
                        "kind": "ambitionsniva",
                        "what": f"Förslag {n + 1}: andelen ska öka med {n % 5 + 1} procentenheter",
                        "indicator": "Kolada N31807",
                        "target_value": f"{90 + n % 7} %",
                        "criteria": {"paverkbart": "ja", "matbart": "delvis"},
                    },
                    client_id=f"bench-{goal_id}-{n:04d}",
                )
            services.set_phase(wid, goal_id, "rostning", method="ja_nej")
            vote_round = db.session.get(Workshop, wid).goals[goal_ids.index(goal_id)].current_round
            round_id, ids = vote_round.id, list(vote_round.proposal_ids)
            for v, person in enumerate(people):
                services.bind_secret(person.id, f"bench-secret-{v:06d}-xxxxxxxx")
                answers = {
                    str(pid): ("ja", "nej", "avstar")[(v + k) % 3] for k, pid in enumerate(ids)
                }
                services.cast_vote(person, round_id, f"bench-secret-{v:06d}-xxxxxxxx", answers)
            services.set_phase(wid, goal_id, "resultat")
            services.record_decision(
                wid,
                goal_id,
                {"kind": "ambitionsniva", "what": "Ambitionsnivå", "proposal_id": ids[0]},
            )
        services.close_workshop(wid)
        return wid


def timed(label: str, run: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    size = f"{len(result) / 1024:9.0f} KB" if isinstance(result, bytes | str) else ""
    print(f"  {label:<28} {seconds:7.2f} s {size}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=100)
    parser.add_argument("--ballots", type=int, default=10_000, help="ballots in total")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                "SECRET_KEY": "bench",
                "PUBLIC_URL": "http://localhost:5000",
            }
        )
        started = time.perf_counter()
        wid = build(app, args.proposals, args.ballots)
        print(
            f"Built: {args.proposals} proposals, {args.ballots} ballots "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with app.app_context():
            workshop = db.session.get(Workshop, wid)
            today = dt.date.today().isoformat()
            record = timed(
                "collect (workshop_record)", lambda: queries.workshop_record(workshop, today)
            )
            doc = timed("consolidate", lambda: domain.consolidate(record))
            timed("DOCX", lambda: documents.render_docx(doc))
            timed("Markdown", lambda: documents.render_markdown(doc))
            timed("PDF/A-2b (WeasyPrint)", lambda: documents.render_pdf(doc))
            timed("XLSX", lambda: documents.render_xlsx(doc))
            timed("CSV", lambda: documents.render_csv(doc))
            timed(
                "JSON archive",
                lambda: json.dumps(queries.export_archive(workshop), ensure_ascii=False).encode(),
            )
            report = domain.follow_up_report(record)
            timed("follow-up DOCX", lambda: documents.render_follow_up_docx(report))
            timed("follow-up PDF", lambda: documents.render_follow_up_pdf(report))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
