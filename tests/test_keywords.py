"""The words people type are data: every keyword key the code reads is in the default language's files,
every key in the files is read, each says what its words do, and no two features claim one whole message."""

from __future__ import annotations

import ast
import functools
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from bot import cli_support
from bot.core import Core
from bot.dispatch import Context, Dispatcher, Replies, Router
from bot.i18n import I18n
from bot.messages import Inbound
from handlers import registry
from handlers.broadcast import audience
from handlers.orientation import content, matching
from handlers.shifts import staff, templates
from handlers.trocshop import CATEGORIES, amounts
from handlers.volunteers import signups

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")])
KEYWORD_FILES = sorted((ROOT / "data" / "locales").glob("*/keywords/*.yaml"))
# A call that reads keywords: ``ctx.i18n.words(<argument>)``.
WORDS_CALL = re.compile(r"\.words\(\s*([^()]+?)\s*\)")
KEY_LINE = re.compile(r"^([A-Za-z0-9_.]+)\s*:")


def _module(path: Path) -> ModuleType:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


def _routers_keys() -> set[str]:
    """Whole-message keywords (``router.command(words=...)``) and a confirmation's extra answers."""
    keys = {key for router in registry.routers() for key, _ in router.keyword_commands}
    return keys | {key for router in registry.routers() for op in router.operations for key in op.variants}


def _families(i18n: I18n) -> dict[str, set[str]]:
    """The keys an f-string call site reads, by the f-string as written."""
    return {
        'f"trocshop.category_{c}"': {f"trocshop.category_{c}" for c in CATEGORIES},
        'f"volunteers.activity_{key}"': {f"volunteers.activity_{key}" for key in signups.ACTIVITIES},
        'f"broadcast.audience_{value}"': {f"broadcast.audience_{v}" for v in (*audience.GROUPS, *audience.CHANNELS)},
        'f"broadcast.audience_language_{c}"': {f"broadcast.audience_language_{c}" for c in i18n.languages},
    }


# Call sites whose argument is a variable: where its keys come from, by file.
VARIABLE_SITES: dict[str, Callable[[], set[str]]] = {
    "bot/dispatch.py": lambda: {key for router in registry.routers() for key, _ in router.keyword_commands},
    "bot/confirm.py": lambda: {key for router in registry.routers() for op in router.operations for key in op.variants},
    "bot/cli_support.py": lambda: {cli_support.YES, cli_support.NO},
    "handlers/shifts/staff.py": lambda: set(staff.PLAIN),
    "handlers/shifts/templates.py": lambda: set(templates.DAY_KEYS),
    "handlers/trocshop/amounts.py": lambda: set(amounts.NUMBER_KEYS),
    "handlers/orientation/matching.py": lambda: matching.keyword_keys(content.intents()),
    # The telephone menu's spoken words: each voice entry's keyword key.
    "bot/voice.py": lambda: {e.words for router in registry.routers() for e in router.voice_entries if e.words},
}


def keys_in_code(i18n: I18n) -> set[str]:
    """Every keyword key the code reads: the routers' keywords, then each ``.words(...)`` call site."""
    keys = _routers_keys()
    families = _families(i18n)
    for path in SOURCES:
        name = str(path.relative_to(ROOT))
        for found in WORDS_CALL.finditer(path.read_text(encoding="utf-8")):
            argument = found.group(1)
            if argument.startswith('"'):
                keys.add(ast.literal_eval(argument))
            elif argument.startswith("f"):
                assert argument in families, f"{name}: list the keys of {argument} in this test's _families"
                keys |= families[argument]
            elif re.fullmatch(r"[A-Za-z_][\w.]*", argument) and argument.split(".")[-1].isupper():
                constant = functools.reduce(getattr, argument.split("."), _module(path))  # NO, confirm.YES
                assert isinstance(constant, str), f"{name}: {argument} is not a keyword key"
                keys.add(constant)
            else:
                assert name in VARIABLE_SITES, f"{name}: say in VARIABLE_SITES which keys .words({argument}) reads"
                keys |= VARIABLE_SITES[name]()
    return keys


def test_every_key_the_code_reads_is_in_the_default_language(core: Core) -> None:
    """A key read by a feature has words in the default language's keyword files, so it works out of the box."""
    default = core.i18n.keywords[core.i18n.default_language]
    missing = sorted(key for key in keys_in_code(core.i18n) if not default.get(key))
    assert not missing, f"no words in data/locales/{core.i18n.default_language}/keywords/ for {missing}"


def test_every_key_in_the_files_is_read(core: Core) -> None:
    """A key no code reads is a typo or a leftover: a translator's words under it would do nothing."""
    used = keys_in_code(core.i18n)
    unused = sorted({key for words in core.i18n.keywords.values() for key in words} - used)
    assert not unused, f"keyword keys no code reads: {unused}"


@pytest.mark.parametrize("path", KEYWORD_FILES, ids=lambda path: str(path.relative_to(ROOT / "data" / "locales")))
def test_each_key_says_what_its_words_do(path: Path) -> None:
    """A translator reads what the words do on the line above each key."""
    lines = path.read_text(encoding="utf-8").splitlines()
    bare = [line.split(":")[0] for n, line in enumerate(lines) if KEY_LINE.match(line) and (
        n == 0 or not lines[n - 1].startswith("#"))]  # fmt: skip
    assert not bare, f"{path.name}: no comment above {bare}"


def test_a_whole_message_word_has_one_owner(core: Core) -> None:
    """The real dispatcher is built, and each keyword's words reach its own handler in every language."""
    for router in core.routers:
        for key, handler in router.keyword_commands:
            for word in core.i18n.words(key):
                assert core.dispatcher.commands[word] is handler, f"{word!r} of {key!r} reaches another handler"


def test_two_features_claiming_one_word_stop_the_start(core: Core) -> None:
    """A second feature registering words another feature owns (SOLDE) makes the dispatcher refuse to start."""
    intruder = Router("intruder")

    @intruder.command(words="trocshop.balance")
    async def mine(inbound: Inbound, ctx: Context) -> Replies:
        return None

    with pytest.raises(ValueError, match="already someone else's"):
        Dispatcher(
            core.store,
            core.clock,
            core.settings,
            core.i18n,
            [*core.routers, intruder],
            core.outbox,
            text_order=core.dispatcher.text_order,
        )
