"""Inbound SMS benchmark (not a test): signed ``POST /twilio/sms`` against a real ``voisins run``.

    .venv/bin/python bench/inbound_sms.py [--clients 10 50] [--seconds 8] [--warmup 3] [--profile FILE]

Each client is a different sender (its own From number and connection) asking real orientation
questions one after the other, as people type them (tests/test_orientation_phrasings.py), each
request signed like Twilio's. The same clients then hit a bare Starlette endpoint that returns a
fixed TwiML answer (bench/_bare_sms.py), served by uvicorn with the same settings: the framework's
own limit on this machine. Printed for both: requests a second, p50 and p99 latency, the CPU the
server and the clients used (1.00 = one core busy), and the bot/bare throughput ratio.
Targets: at 50 clients the bot does at least 0.5 x the bare throughput; p99 < 50 ms at 10 clients.

``--profile FILE`` runs the bot under cProfile for the same load and prints where its time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import pstats
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import ROOT, Run, bot_env, free_port, percentile, print_machine, sms_settings, start, tail, wait_healthy

from tests.fakes import twilio_webhook as tw
from tests.test_orientation_phrasings import PHRASINGS

QUESTIONS = [text for text, _ in PHRASINGS]
SMS_URL = f"{tw.PUBLIC_URL}/twilio/sms"
_sids = itertools.count(1)


@dataclass
class Phase:
    """What one server did for one number of clients."""

    name: str
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self) -> str:
        ms = [1000 * x for x in self.latencies]
        return (
            f"  {self.name:<5} {self.clients:>3} clients: {self.rate:8.1f} req/s"
            f"   p50 {percentile(ms, 50):7.2f} ms   p99 {percentile(ms, 99):7.2f} ms"
            f"   ({len(self.latencies):,} answered, {len(self.failures)} failed;"
            f" CPU busy: server {self.server_cpu:.2f}, clients {self.client_cpu:.2f};"
            f" server CPU {self.cpu_ms:.2f} ms/request)"
        )

    @property
    def cpu_ms(self) -> float:
        """Server CPU time per answered request: what one request costs, whoever was the bottleneck."""
        return 1000 * self.server_cpu * self.seconds / max(1, len(self.latencies))


def signed(sender: str, body: str) -> tuple[dict[str, str], dict[str, str]]:
    """A new message from ``sender``: its form and the X-Twilio-Signature Twilio would send."""
    params = tw.sms_params(sender, body, sid=f"SM{next(_sids):032d}")
    return params, {"X-Twilio-Signature": tw.sign(SMS_URL, params)}


def connection(base: str) -> httpx.AsyncClient:
    """One sender's own keep-alive connection (no TLS on loopback: no certificates to load)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(base_url=base, limits=limits, timeout=30, verify=False)  # noqa: S501


async def client(
    http: httpx.AsyncClient, sender: str, first: int, measure_from: float, until: float, phase: Phase, bare: bool
) -> None:
    """One sender asking question after question."""
    async with http:
        for n in itertools.count(first):
            params, headers = signed(sender, QUESTIONS[n % len(QUESTIONS)])
            began = time.perf_counter()
            try:
                response = await http.post("/twilio/sms", data=params, headers=headers)
                ok = response.status_code == 200 and (bare or bool(tw.messages(response.text)))
                problem = "" if ok else f"HTTP {response.status_code}: {response.text[:80]!r}"
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            ended = time.perf_counter()
            if ended > until:
                return
            if ended >= measure_from:
                if problem:
                    phase.failures.append(problem)
                else:
                    phase.latencies.append(ended - began)


async def load(run: Run, port: int, name: str, clients: int, warmup: float, seconds: float, offset: int) -> Phase:
    """``clients`` senders for ``warmup`` seconds (not counted), then ``seconds`` measured."""
    phase = Phase(name, clients, seconds)
    connections = [connection(f"http://127.0.0.1:{port}") for _ in range(clients)]
    now = time.perf_counter()
    measure_from, until = now + warmup, now + warmup + seconds
    tasks = [
        asyncio.create_task(client(http, f"+3361{offset + i:07d}", i * 7, measure_from, until, phase, name == "bare"))
        for i, http in enumerate(connections)
    ]
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    server_before, client_before = run.cpu_seconds(), time.process_time()
    await asyncio.sleep(max(0.0, until - time.perf_counter()))
    phase.server_cpu = (run.cpu_seconds() - server_before) / seconds
    phase.client_cpu = (time.process_time() - client_before) / seconds
    await asyncio.gather(*tasks)
    return phase


async def bench(workdir: Path, counts: list[int], warmup: float, seconds: float, profile: Path | None) -> list[Phase]:
    bot_port, bare_port = free_port(), free_port()
    env = bot_env(workdir, HTTP_PORT=str(bot_port), TWILIO_API_URL="http://127.0.0.1:9", **sms_settings())
    args = ["-m", "cProfile", "-o", str(profile), "-m", "bot.cli", "run"] if profile else ["run"]
    log = workdir / "bot.log"
    bot = start(args, env, workdir, stderr=log)
    bare = start([str(ROOT / "bench" / "_bare_sms.py"), str(bare_port)], env, ROOT)
    phases: list[Phase] = []
    try:
        await wait_healthy(bot_port, bot)
        await wait_healthy(bare_port, bare)
        for offset, clients in enumerate(counts):
            targets = [("bot", bot, bot_port)] if profile else [("bare", bare, bare_port), ("bot", bot, bot_port)]
            for name, run, port in targets:
                phase = await load(run, port, name, clients, warmup, seconds, offset * 10_000)
                print(phase.line(), flush=True)
                phases.append(phase)
    finally:
        await bare.finish(signal.SIGTERM)
        await bot.finish(signal.SIGTERM)
    problems = [line for line in tail(log, 200).splitlines() if " ERROR " in line or "Traceback" in line]
    if problems:
        print(f"  the bot logged {len(problems)} error line(s), the last: {problems[-1]}")
    return phases


def summary(phases: list[Phase]) -> None:
    by = {(p.name, p.clients): p for p in phases}
    print("  ratio bot/bare (requests a second):")
    for clients in sorted({p.clients for p in phases}):
        bot, bare = by.get(("bot", clients)), by.get(("bare", clients))
        if bot and bare:
            print(f"    {clients:>3} clients: {bot.rate / bare.rate:.2f}")
    print("  ratio bare/bot of server CPU per request (the framework's share of the bot's cost, inverted):")
    for clients in sorted({p.clients for p in phases}):
        bot, bare = by.get(("bot", clients)), by.get(("bare", clients))
        if bot and bare:
            ms = f"{bare.cpu_ms:.2f} ms vs {bot.cpu_ms:.2f} ms"
            print(f"    {clients:>3} clients: {bare.cpu_ms / bot.cpu_ms:.2f}  ({ms})")
    clients_bound = [p for p in phases if p.client_cpu > 0.9]
    if clients_bound:
        names = ", ".join(f"{p.name} at {p.clients}" for p in clients_bound)
        print(f"  note: the load clients used a whole core ({names}): that server could answer more than measured")
    bot50, bare50, bot10 = by.get(("bot", 50)), by.get(("bare", 50)), by.get(("bot", 10))
    if bot50 and bare50:
        ratio = bot50.rate / bare50.rate
        print(f"  target: bot >= 0.5 x bare at 50 clients: {ratio:.2f} -> {'met' if ratio >= 0.5 else 'MISSED'}")
    if bot10:
        p99 = 1000 * percentile(bot10.latencies, 99)
        print(f"  target: p99 < 50 ms at 10 clients: {p99:.1f} ms -> {'met' if p99 < 50 else 'MISSED'}")


def show_profile(path: Path) -> None:
    stats = pstats.Stats(str(path))
    stats.strip_dirs().sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50], help="concurrent senders, each run")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds of each run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--profile", type=Path, help="run the bot under cProfile, write the stats here, print them")
    args = parser.parse_args()
    print_machine("Inbound SMS: signed POST /twilio/sms, voisins run vs a bare Starlette endpoint")
    print(f"  {args.warmup:g} s warm-up then {args.seconds:g} s measured per run; {len(QUESTIONS)} questions")
    with tempfile.TemporaryDirectory(prefix="voisins-bench-") as tmp:
        profile = args.profile.resolve() if args.profile else None
        phases = asyncio.run(bench(Path(tmp), args.clients, args.warmup, args.seconds, profile))
    if profile:
        show_profile(profile)
    else:
        summary(phases)


if __name__ == "__main__":
    main()
