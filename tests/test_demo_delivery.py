"""Demo delivery: with no provider configured, ``voisins run`` shows in the terminal what the outbox sends."""

from __future__ import annotations

import asyncio
import io
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape
from pathlib import Path

import httpx

from bot.channels.demo import ERASE_LINE, PROVIDER_PREFIX, Terminal, demo_senders, masked
from bot.config import Settings
from bot.i18n import I18n
from bot.messages import Channel, Choice
from bot.outbox import Row
from bot.store import Store
from tests.commands import bot_env, free_port
from tests.conftest import PATIENCE, make_settings, opened_store
from tests.console_kit import code_form, csrf_of

STAFF_PHONE = "+33639980001"  # Awa Diallo (équipe), staff and admin in the demo data
TERMINAL = re.compile(r"(?m)^┌─ Pour vous, dans ce terminal\n(?P<body>(?:│.*\n)*)└─$")
BLOCK = re.compile(r"(?m)^┌─ (?P<channel>SMS|Telegram) pour (?P<who>.*)\n(?P<body>(?:│.*\n)*)└─$")


class Run:
    """A ``voisins run`` in demo mode, talked to through its terminal conversation (pipes)."""

    def __init__(self, process: asyncio.subprocess.Process, database: Path, url: str) -> None:
        self.process = process
        self.database = database
        self.url = url  # its HTTP server: the console
        self.output = ""
        self.errors = b""  # read as it comes: a full pipe would stop the bot
        self._read = 0  # where the next wait_for starts looking
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read_all())
        self._errors = asyncio.create_task(self._read_errors())

    async def _read_errors(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(4096):
            self.errors += chunk

    async def _read_all(self) -> None:
        assert self.process.stdout is not None
        while chunk := await self.process.stdout.read(4096):
            async with self._changed:
                self.output += chunk.decode()
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    def said(self) -> str:
        return f"{self.output}\n--- stderr:\n{self.errors.decode(errors='replace')}"

    async def say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()

    async def wait_for(self, pattern: str, count: int = 1) -> list[re.Match[str]]:
        """The first ``count`` matches of ``pattern`` in the output since the last wait, however long they take."""
        (matches,) = await self.wait_all({pattern: count})
        return matches

    async def wait_all(self, patterns: dict[str, int]) -> list[list[re.Match[str]]]:
        """Each pattern's first matches (as many as given) since the last wait, in whichever order they come."""

        def found() -> list[list[re.Match[str]]] | None:
            matches = []
            for pattern, count in patterns.items():
                each = list(re.compile(pattern).finditer(self.output, self._read))
                if len(each) < count:
                    return None
                matches.append(each[:count])
            return matches

        async def until() -> list[list[re.Match[str]]]:
            async with self._changed:
                while (matches := found()) is None:
                    if self._reader.done():
                        raise AssertionError(f"voisins run ended before {list(patterns)}:\n{self.said()}")
                    await self._changed.wait()
                return matches

        try:
            matches = await asyncio.wait_for(until(), timeout=PATIENCE)
        except TimeoutError:
            raise AssertionError(f"no {list(patterns)} within {PATIENCE:.0f} s in:\n{self.said()}") from None
        self._read = max(match.end() for each in matches for match in each)
        return matches

    async def exchange(self, line: str, answer: str) -> None:
        await self.say(line)
        await self.wait_for(answer)

    def rows(self, sql: str, *params: object) -> list[sqlite3.Row]:
        with sqlite3.connect(self.database) as db:
            db.row_factory = sqlite3.Row
            return db.execute(sql, params).fetchall()

    async def until_rows(self, sql: str, expected: int, *params: object) -> None:
        """Wait until ``sql`` counts ``expected``: the row is written just after its block is printed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while self.rows(sql, *params)[0][0] != expected:
            assert loop.time() < deadline, f"{sql} never counted {expected}"
            await asyncio.sleep(0.05)


@asynccontextmanager
async def demo_run(tmp_path: Path, **settings: str) -> AsyncIterator[Run]:
    """``voisins run`` with nothing configured (the terminal demo), at any hour; /quit at the end must exit 0."""
    port = free_port()
    env = bot_env(tmp_path, HTTP_PORT=str(port), SMS_QUIET_HOURS="", **settings)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    run = Run(process, tmp_path / "run.db", f"http://127.0.0.1:{port}")
    try:
        await run.wait_for("dans le terminal")
        yield run
        await run.say("/quit")
        assert await asyncio.wait_for(process.wait(), timeout=PATIENCE) == 0, run.said()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await asyncio.gather(run._reader, run._errors)
    assert "639980" not in run.output, "a phone number was printed whole"


async def link_as_staff(run: Run) -> None:
    """The terminal becomes Awa, staff: the link code arrives by (demo) SMS, in the terminal."""
    await run.exchange("/lier", "votre numéro de téléphone")
    await run.exchange(STAFF_PHONE, "un code à 6 chiffres")
    (block,) = await run.wait_for(BLOCK.pattern)
    assert block["channel"] == "SMS" and block["who"] == "Awa Diallo (équipe) (06 •• •• •• 01)"
    code = re.search(r"\b(\d{6})\b", block["body"])
    assert code is not None
    await run.say(code[1])
    _, (told,) = await run.wait_all({"C'est fait, Awa": 1, BLOCK.pattern: 1})  # and her phone is told
    assert "compte terminal vient d'etre relié" in told["body"]


async def test_a_broadcast_typed_in_the_terminal_arrives_for_everyone(tmp_path: Path) -> None:
    """A staff broadcast confirmed in the terminal shows each recipient's SMS; the report then says all were sent."""
    async with demo_run(tmp_path) as run:
        await run.wait_for("Démo : aucun SMS")
        await link_as_staff(run)
        await run.exchange("/annonce Fête jeudi", "Texte en anglais")
        await run.exchange("aucun", "Qui la reçoit")
        await run.exchange("tous", "Envoyer ?")
        await run.say("OUI")
        blocks = await run.wait_for(BLOCK.pattern, count=4)
        assert sorted(b["who"] for b in blocks) == [
            "Awa Diallo (équipe) (06 •• •• •• 01)",
            "Karim Benali (06 •• •• •• 02)",
            "Lucie Martin (06 •• •• •• 04)",
            "Sam Taylor (06 •• •• •• 03)",
        ]
        assert {b["body"] for b in blocks} == {"│ Fete jeudi\n"}  # the GSM-7 text the phone would show
        assert "> ┌" not in run.output  # a block never starts on the prompt's line
        await run.until_rows("SELECT COUNT(*) FROM outbox WHERE cause LIKE 'broadcast:%' AND status = 'sent'", 4)
        await run.exchange("/annonces 1", r"Annonce 1, terminée[^\n]*\n[^\n]*\nEnvoyés : 4 sur 4 \(SMS 4/4\)")
        rows = run.rows("SELECT status, provider_id, segments FROM outbox WHERE cause LIKE 'broadcast:%'")
        assert len(rows) == 4
        for row in rows:
            assert row["status"] == "sent" and row["provider_id"].startswith(PROVIDER_PREFIX) and row["segments"] == 1


async def test_a_credit_made_in_the_terminal_reaches_the_person(tmp_path: Path) -> None:
    """Staff credit Karim in the terminal: his SMS notice, with his new balance, appears; its row is sent."""
    async with demo_run(tmp_path) as run:
        await link_as_staff(run)
        await run.exchange("/crediter GV-K7P2 1h atelier jardin", "Créditer 1 h à Karim")
        await run.say("OUI")
        (block,) = await run.wait_for(BLOCK.pattern)
        assert block["who"] == "Karim Benali (06 •• •• •• 02)"
        assert "l'équipe vous a crédité 1 h" in block["body"] and "Votre solde" in block["body"]
        await run.until_rows("SELECT COUNT(*) FROM outbox WHERE cause LIKE 'troc:%' AND status = 'sent'", 1)


async def test_a_hand_off_answered_in_the_console_reaches_the_terminal(tmp_path: Path) -> None:
    """The person at the terminal asks for someone; Awa logs in to the console with the code her (demo)
    SMS shows, reads the conversation and answers: the answer appears in the terminal, its row sent."""
    async with demo_run(tmp_path) as run:
        await run.exchange("je voudrais parler a quelqu'un", "un membre de l'équipe vous répond")
        await run.exchange("j'ai perdu mes papiers", "Message transmis à l'équipe")
        async with httpx.AsyncClient(base_url=run.url, timeout=PATIENCE) as client:
            login = await client.get("/console/login")
            sent = await client.post("/console/login", data={"who": "GV-EKP3", "csrf": csrf_of(login.text), "next": ""})
            (code,) = await run.wait_for(r"console Grands Voisins : (\d{6})")
            assert (await client.post("/console/login/code", data=code_form(sent.text, code[1]))).status_code == 303
            (conversation,) = run.rows("SELECT id FROM handoff_conversations")
            page = await client.get(f"/console/conversations/{conversation['id']}")
            assert "j'ai perdu mes papiers" in unescape(page.text) and "ne peut pas recevoir" not in unescape(page.text)
            answer = {"csrf": csrf_of(page.text), "text": "Passez à l'accueil à 10h, on refait vos papiers"}
            answered = await client.post(f"/console/conversations/{conversation['id']}/answer", data=answer)
            assert answered.status_code == 303, answered.text
        (told,) = await run.wait_for(TERMINAL.pattern)
        assert told["body"] == "│ L'équipe : Passez à l'accueil à 10h, on refait vos papiers\n"
        await run.until_rows("SELECT COUNT(*) FROM outbox WHERE channel = 'console' AND status = 'sent'", 1)


async def test_delivery_off_leaves_the_rows_waiting(tmp_path: Path) -> None:
    """DEMO_DELIVERY=false in the demo: nothing is shown as delivered and the link code stays pending."""
    async with demo_run(tmp_path, DEMO_DELIVERY="false") as run:
        await run.exchange("/lier", "votre numéro de téléphone")
        await run.exchange(STAFF_PHONE, "un code à 6 chiffres")
        await run.exchange("menu", "Dormir ce soir")  # the outbox has had a turn meanwhile
        assert "┌─" not in run.output and "Démo" not in run.output
        assert [r["status"] for r in run.rows("SELECT status FROM outbox")] == ["pending"]


def settings_for(tmp_path: Path, **values: object) -> Settings:
    """No provider unless given: the terminal demo's settings."""
    return Settings(_env_file=None, database_path=tmp_path / "bot.db", **values)  # type: ignore[call-arg]


def test_only_the_demo_delivers_by_default(tmp_path: Path) -> None:
    """Nothing configured: demo senders; Twilio or Telegram configured: none, unless DEMO_DELIVERY says so."""
    assert settings_for(tmp_path).demo_delivers
    assert not settings_for(tmp_path, demo_delivery=False).demo_delivers
    telegram_only = settings_for(tmp_path, telegram_bot_token="123:abc")
    assert not telegram_only.demo_delivers  # its SMS rows wait: never recorded as sent
    assert settings_for(tmp_path, telegram_bot_token="123:abc", demo_delivery=True).demo_delivers
    assert not make_settings(tmp_path).demo_delivers


def test_demo_senders_cover_the_unconfigured_channels_at_their_rates(tmp_path: Path) -> None:
    """A channel with an account never gets a demo sender; each one keeps its channel's configured rate."""
    i18n, store, terminal = I18n(), Store(tmp_path / "bot.db"), Terminal(io.StringIO())
    both = demo_senders(settings_for(tmp_path, sms_max_per_second=3, telegram_max_per_second=7), store, i18n, terminal)
    assert {(s.channel, s.max_per_second) for s in both} == {(Channel.SMS, 3), (Channel.TELEGRAM, 7)}
    with_sms = demo_senders(make_settings(tmp_path, demo_delivery=True), store, i18n, terminal)
    assert [s.channel for s in with_sms] == [Channel.TELEGRAM]


def test_addresses_are_masked() -> None:
    """A phone number keeps its first two and last two digits; a Telegram chat id its last two."""
    assert masked(Channel.SMS, "+33639980001") == "06 •• •• •• 01"
    assert masked(Channel.TELEGRAM, "987654321") == "•••••••21"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_block_keeps_off_the_prompt_and_puts_it_back() -> None:
    """At the prompt a block goes on its own lines and the prompt comes back; on a terminal a prompt
    put back while a line was being answered is erased before the answer."""
    for stream in (io.StringIO(), _Tty()):
        terminal = Terminal(stream)
        terminal.write("> ")
        terminal.block(["┌─ SMS", "│ hello", "└─"])
        terminal.write("answer\n")
        erase = ERASE_LINE if stream.isatty() else ""
        assert stream.getvalue() == f"> \n┌─ SMS\n│ hello\n└─\n> {erase}answer\n"
    plain = io.StringIO()
    Terminal(plain).block(["┌─ SMS", "└─"])
    assert plain.getvalue() == "┌─ SMS\n└─\n"


async def test_a_telegram_row_shows_its_text_and_buttons(tmp_path: Path) -> None:
    """Telegram: the text as sent, one button a line; an edit is shown again, marked as edited."""
    stream = io.StringIO()
    async with opened_store(tmp_path / "bot.db") as store:
        (sender,) = [
            s
            for s in demo_senders(settings_for(tmp_path), store, I18n(), Terminal(stream))
            if s.channel is Channel.TELEGRAM
        ]
        row = Row(7, "test", Channel.TELEGRAM, "987654321", None, "Demain ?\nRépondez", (Choice("y", "OUI"),), 1)
        sent = await sender.send(row)
        await sender.edit(row.address, str(sent.provider_id), "Fini")
    assert sent.provider_id == f"{PROVIDER_PREFIX}7"
    assert stream.getvalue() == (
        "┌─ Telegram pour •••••••21\n│ Demain ?\n│ Répondez\n│ [ OUI ]\n└─\n"
        "┌─ Telegram pour •••••••21, message modifié\n│ Fini\n└─\n"
    )
