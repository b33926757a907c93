"""Load benchmark across workers: redis-server, N gevent workers and nginx, on 127.0.0.1 only.

    .venv/bin/pip install -e ".[production,bench,test]"
    .venv/bin/python bench/cluster.py --workers-server 1 2 --clients 100 500 1000

The same measurements as ``bench/load.py`` (whose client processes, log-in, vote set-up and
database check it reuses), against the multi-worker set-up of ``tests/cluster.py``: Debian's
redis-server, ``--workers-server`` × ``python run.py`` (ASYNC_MODE=gevent, REDIS_URL set, one
SQLite file in WAL mode) and nginx with the shipped site (deploy/nginx.conf) in front. With one
worker the message queue and the shared state in Redis are still on, so the first row is the
cost of clustering itself, to compare with bench/load.py's gevent row.

Every benchmark client comes from 127.0.0.1, and nginx's ``ip_hash`` would send them all to one
worker; they use WebSocket only (one TCP connection each, sticky by nature), so here nginx
balances round robin (``ip_hash`` dropped from the shipped upstream), which spreads them as
ip_hash spreads phones from many addresses. RSS (peak, sampled every 0.1 s) and CPU are summed
over the server workers; nginx and redis-server are reported apart. After the saturation the
facilitator reveals, and the table gives reveal → 50/95/100 % of the phones and the presenter,
measured as in ``bench/load.py``. ``--database postgresql`` runs a throwaway PostgreSQL with
its defaults (fsync on, synchronous_commit on). Nothing is pinned to a CPU here: two workers on
two cores is the point. A hard timeout (``--timeout``) ends everything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import load  # noqa: E402  (bench/load.py)

from tests.cluster import Cluster  # noqa: E402

TARGETS = (
    "Targets (issue 17): PostgreSQL, one workshop, fsync on: ≥ 1000 acknowledged votes/s with one "
    "worker and more with two; 0 lost/dup in every run."
)


class Target:
    """What bench/load.py's helpers need of a server: its URL, banner and database file."""

    def __init__(self, cluster: Cluster, database_url: str | None = None) -> None:
        self.url = cluster.url
        self.db: Path | str = database_url or cluster.db
        self.banner = cluster.banner


def cpu_seconds(procs: list[Any]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except Exception:  # noqa: BLE001 - a process that ended counts nothing more
            pass
    return total


async def measure(servers: int, clients: int, args: argparse.Namespace) -> dict[str, Any]:
    import psutil

    result: dict[str, Any] = {"servers": servers, "clients": clients, "database": args.database}
    folder = Path(tempfile.mkdtemp(prefix=f"bench-cluster-{servers}-{clients}-"))
    database_url = args.postgres.create_database() if args.postgres else None
    cluster = Cluster(
        folder,
        servers,
        push_interval=args.push_interval,
        balance="",
        raise_nofile=load.raise_nofile,
        env={
            "DATABASE_URL": database_url or f"sqlite:///{folder / 'cluster.db'}",
            "FACILITATOR_PASSWORD": load.PASSWORD,
            **load.NO_JOIN_LIMITS,
            **({"REDIS_URL": ""} if args.no_redis else {}),
        },
    )
    workers = load.Workers(args.workers)
    peak: load.PeakRss | None = None
    try:
        cluster.start()
        target = Target(cluster, database_url)
        procs = [psutil.Process(p.pid) for p in cluster.workers]
        peak = load.PeakRss(procs)
        result["server_pids"] = [p.pid for p in procs]
        helpers = [psutil.Process(p.pid) for p in (cluster.nginx, cluster.redis) if p]
        helpers += [child for proc in helpers for child in proc.children(recursive=True)]
        load.progress(f"worker pids {result['server_pids']}; joining {clients} phones")
        fac_cookie, phones = await load.login_and_join(target, clients)  # type: ignore[arg-type]
        room = await load.open_vote(target, fac_cookie)  # type: ignore[arg-type]
        workshop, _ = cluster.banner()
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        parts = load.shards(list(range(clients)), args.workers)
        answers = await loop.run_in_executor(
            None,
            workers.run,
            [
                {
                    "kind": "connect",
                    # --direct: past nginx, each client process to one worker (a diagnosis).
                    "url": cluster.worker_url(n % servers) if args.direct else cluster.url,
                    "workshop": workshop,
                    "phones": [phones[i] for i in part],
                }
                for n, part in enumerate(parts)
            ],
            args.timeout,
        )
        result["connected"] = sum(a["connected"] for a in answers)
        result["connect_s"] = time.monotonic() - started

        # 1. Paced votes.
        load.progress("paced votes")
        count = int(args.rate * args.seconds)
        start = time.monotonic() + 1.0
        cpu_before, helpers_before = cpu_seconds(procs), cpu_seconds(helpers)
        wall_before = time.monotonic()
        jobs = [
            {
                "kind": "paced",
                "start": start,
                "offset": w / args.rate,
                "rate": args.rate / args.workers,
                "count": count // args.workers,
                "round_id": room.round_id,
                "proposals": room.proposals,
            }
            for w in range(len(parts))
        ]
        answers = await loop.run_in_executor(None, workers.run, jobs, args.timeout)
        await load.trailing_push(room, answers)
        wall = max(time.monotonic() - wall_before, 1e-9)
        result["cpu_pct"] = 100 * (cpu_seconds(procs) - cpu_before) / wall
        result["helpers_cpu_pct"] = 100 * (cpu_seconds(helpers) - helpers_before) / wall
        votes, summary = load.summarize_votes(answers, parts, room.seen, start)
        result.update(summary)
        result["pushes_per_s"] = result["pushes"] / max(time.monotonic() - start, 1e-9)
        result.update(load.check_database(target.db, room.round_id, phones, votes))

        # 2. Saturation: the cluster's acknowledged throughput and its batches.
        load.progress("saturation")
        result.update(
            await load.saturate(
                workers,
                len(parts),
                args,
                round_id=room.round_id,
                proposals=room.proposals,
                bare=False,
            )
        )
        # 3. The reveal, every phone still connected.
        load.progress("reveal")
        result.update(await load.reveal(workers, len(parts), room, args))
        result["rss_mb"] = peak.stop()
        answers = await loop.run_in_executor(
            None, workers.run, [{"kind": "disconnect"}] * len(parts), 120
        )
        result["dropped"] = sum(a["dropped"] for a in answers)
        for client in (room.fac, room.screen):
            await client.disconnect()
    except Exception as exc:  # noqa: BLE001 - reported in the table
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["logs"] = cluster.logs()[-2000:]
    finally:
        if peak is not None and "rss_mb" not in result:
            result["rss_mb"] = peak.stop()
        workers.stop()
        cluster.stop()
    return result


def table(results: list[dict[str, Any]]) -> str:
    fmt = load.fmt
    head = (
        "| database | workers | clients | connected (connect time) | ack p50/p95/p99 ms | "
        "presenter p50/p95/max ms | reveal → 50/95/100 % phones ms | reveal → presenter ms | "
        "pushes/s | lost/dup | workers RSS MB | workers CPU % | nginx+redis CPU % | acks/s | "
        "votes/batch |"
    )
    columns = head.count("|") - 1
    lines = [head, "|" + "---|" * columns]
    for r in results:
        if "error" in r and "throughput" not in r:
            lines.append(
                f"| {r['database']} | {r['servers']} | {r['clients']} | "
                f"{fmt(r.get('connected'))} | failed: {r['error']} |" + " |" * (columns - 5)
            )
            continue
        cells = [
            r["database"],
            str(r["servers"]),
            str(r["clients"]),
            load.connected_cell(r),
            "/".join(fmt(r.get(k)) for k in ("ack_p50", "ack_p95", "ack_p99")),
            "/".join(fmt(r.get(k)) for k in ("presenter_p50", "presenter_p95", "presenter_max")),
            load.reveal_cell(r),
            fmt(r.get("reveal_presenter")),
            fmt(r.get("pushes_per_s"), 1),
            f"{fmt(r.get('lost'))}/{fmt(r.get('duplicated'))}",
            fmt(r.get("rss_mb")),
            fmt(r.get("cpu_pct")),
            fmt(r.get("helpers_cpu_pct")),
            fmt(r.get("throughput")),
            fmt(r.get("batch_mean"), 1),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for servers in args.workers_server:
        for clients in args.clients:
            print(f"== {servers} worker(s), {clients} clients …", flush=True)
            result = await measure(servers, clients, args)
            print(json.dumps(result, default=str), flush=True)
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers-server", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 500, 1000])
    load.add_load_arguments(parser)
    parser.add_argument("--push-interval", type=float, default=0.25)
    parser.add_argument(
        "--direct", action="store_true", help="phones connect to the workers, not nginx"
    )
    parser.add_argument(
        "--no-redis", action="store_true", help="without REDIS_URL (meaningful for 1 worker)"
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="one SQLite file shared by the workers, or a throwaway PostgreSQL server "
        "(Debian's postgresql, started in a temporary folder as tests/postgres.py does)",
    )
    args = parser.parse_args()
    load.prepare(args)
    args.postgres = None
    if args.database == "postgresql":
        from tests.postgres import PostgresServer

        args.postgres = PostgresServer(durable=True).start()
    try:
        results = asyncio.run(run_all(args))
    finally:
        if args.postgres is not None:
            args.postgres.stop()
    print()
    print(table(results))
    print(TARGETS)


if __name__ == "__main__":
    main()
