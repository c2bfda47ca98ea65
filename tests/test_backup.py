"""``voisins backup``: a consistent copy of the live database while the bot answers SMS and books payments."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from bot.backup import BackupError, backup, target_path
from bot.clock import SystemClock
from bot.i18n import I18n
from tests.commands import bot_env, running_bot, voisins
from tests.conftest import PATIENCE, eventually
from tests.fakes import twilio_webhook as tw
from tests.fakes.twilio_api import FakeTwilio
from tests.helpers import rows
from tests.test_trocshop_kill import (
    CREDIT,
    PAID,
    books_check,
    pairs,
    preview,
    say,
    seed,
    sms_env,
)

BULK_ROWS = 60_000  # a few megabytes: the copy takes several steps while the bot writes


def bulk(database: Path) -> None:
    """Old traffic, so the database is large enough for the copy to take several steps."""
    with sqlite3.connect(database) as db:
        db.executemany(
            "INSERT INTO inbound_seen (channel, message_id, received_at)"
            " VALUES ('sms', ?, '2026-01-01T00:00:00+00:00')",
            ((f"SMold{i:030d}",) for i in range(BULK_ROWS)),
        )


async def test_a_backup_taken_under_traffic_restores_everything(tmp_path: Path) -> None:
    """Payments and new people keep coming while ``voisins backup`` runs; the copy starts a bot that has them all."""
    database = tmp_path / "run.db"
    everyone = pairs(20)
    await seed(database, everyone)
    bulk(database)
    copy = tmp_path / "copy.db"
    async with FakeTwilio() as twilio, httpx.AsyncClient(timeout=PATIENCE) as client:
        env = sms_env(tmp_path, twilio)
        async with running_bot(tmp_path, env) as url:
            paid: list[int] = []
            newcomers: list[str] = []
            before_backup: tuple[int, int] = (0, 0)

            async def pay() -> None:
                for index, pair in enumerate(everyone):
                    yes = await preview(client, url, pair)
                    (answer,) = await say(client, url, tw.sms_params(pair.payer_phone, yes))
                    assert "C'est envoyé" in answer
                    paid.append(index)

            async def newcomer() -> None:
                for n in range(500):
                    if len(paid) == len(everyone):
                        return
                    phone = f"+3363995{n:04d}"
                    (answer,) = await say(client, url, tw.sms_params(phone, "aide"))
                    assert answer
                    newcomers.append(phone)

            traffic = [asyncio.create_task(pay()), asyncio.create_task(newcomer())]
            await eventually(lambda: len(paid) >= 5 or traffic[0].done(), what="five payments answered")
            if traffic[0].done():
                traffic[0].result()  # the payments stopped early: say why
            before_backup = (len(paid), len(newcomers))
            made = await voisins(tmp_path, "backup", str(copy), env=bot_env(tmp_path))
            during = (len(paid), len(newcomers))
            await asyncio.gather(*traffic)
        assert made.code == 0, made.err
        assert f"Sauvegarde écrite dans {copy} : " in made.out and "ko, intégrité vérifiée." in made.out
        assert during > before_backup, "the bot answered nothing while the backup ran"

        # Everything answered before the backup started is in the copy; nothing is half there.
        in_copy = {str(p[0]) for p in rows(copy, "SELECT address FROM identities WHERE channel = 'sms'")}
        assert set(newcomers[: before_backup[1]]) <= in_copy
        (seen,) = rows(copy, "SELECT COUNT(*) FROM inbound_seen")
        assert f"inbound_seen {seen[0]}" in made.out and int(str(seen[0])) > BULK_ROWS  # the traffic is counted
        exchanges = rows(copy, "SELECT id FROM troc_entries WHERE category = 'exchange'")
        assert len(exchanges) >= before_backup[0]
        told = rows(copy, "SELECT COUNT(*) FROM outbox WHERE cause LIKE 'troc:%'")
        assert told == [(len(exchanges),)]  # each payment's notice was written with it, in the copy too
        assert "Les comptes sont justes" in await books_check(tmp_path, copy)

        # Restored: a bot started on the copy knows the people and their balances.
        restored = tmp_path / "restored"
        restored.mkdir()
        (restored / "run.db").write_bytes(copy.read_bytes())
        async with running_bot(restored, sms_env(restored, twilio)) as url:
            first = everyone[0]
            (answer,) = await say(client, url, tw.sms_params(first.payer_phone, "solde"))
            assert f"{CREDIT - PAID} min" in answer
            (answer,) = await say(client, url, tw.sms_params(first.payee_phone, "solde"))
            assert f"{PAID} min" in answer


async def test_an_existing_file_is_kept_without_overwrite(tmp_path: Path) -> None:
    """The backup refuses to replace a file unless --overwrite; with it, the file is replaced by a good copy."""
    database = tmp_path / "run.db"
    await seed(database, pairs(2))
    target = tmp_path / "kept.db"
    target.write_text("precious")
    refused = await voisins(tmp_path, "backup", str(target))
    assert refused.code == 1 and "existe déjà : choisissez un autre nom, ou ajoutez --overwrite." in refused.err
    assert target.read_text() == "precious"
    replaced = await voisins(tmp_path, "backup", str(target), "--overwrite")
    assert replaced.code == 0, replaced.err
    written, counted = replaced.out.splitlines()
    kilobytes = round(target.stat().st_size / 1024)
    assert written == f"Sauvegarde écrite dans {target} : {kilobytes} ko, intégrité vérifiée."
    assert counted.startswith("Lignes : ") and "persons 4, " in counted and "troc_entries 2" in counted
    assert rows(target, "SELECT COUNT(*) FROM persons") == [(4,)]
    assert sorted(os.listdir(tmp_path)) == ["kept.db", "run.db"]  # no temporary file left


async def test_a_folder_gets_a_dated_file_and_the_default_is_var_backups(tmp_path: Path) -> None:
    """A folder as PATH gets voisins-DATE.db inside it; no PATH puts it in backups/ beside the database."""
    database = tmp_path / "run.db"
    await seed(database, pairs(1))
    folder = tmp_path / "saves"
    folder.mkdir()
    into = await voisins(tmp_path, "backup", str(folder))
    assert into.code == 0, into.err
    (made,) = folder.iterdir()
    assert made.name.startswith("voisins-") and made.suffix == ".db"
    default = await voisins(tmp_path, "backup")
    assert default.code == 0, default.err
    (made,) = (tmp_path / "backups").iterdir()
    assert rows(made, "PRAGMA integrity_check") == [("ok",)]
    assert rows(made, "PRAGMA journal_mode") == [("delete",)]  # one file: nothing left in a -wal beside it


async def test_a_missing_database_is_an_error_not_an_empty_copy(tmp_path: Path) -> None:
    """A wrong DATABASE_PATH gives exit 1 and says so; no database and no copy are created."""
    ran = await voisins(tmp_path, "backup", str(tmp_path / "copy.db"))
    assert ran.code == 1 and "Pas de base de données à" in ran.err
    assert os.listdir(tmp_path) == []


def test_a_corrupt_database_is_refused(tmp_path: Path) -> None:
    """A damaged source is reported, and no file is left under the target's name."""
    database = tmp_path / "bad.db"
    database.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    target = tmp_path / "copy.db"
    with pytest.raises(BackupError):
        backup(database, target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.db"]


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    """A target in a folder that does not exist is refused with the folder's name."""
    database = tmp_path / "run.db"
    sqlite3.connect(database).close()
    with pytest.raises(BackupError) as refused:
        backup(database, target_path(database, tmp_path / "nowhere" / "copy.db", _now()))
    assert (
        I18n().t("fr", refused.value.key, **refused.value.params) == f"Le dossier {tmp_path / 'nowhere'} n'existe pas."
    )


def _now() -> datetime:
    return SystemClock().now()
