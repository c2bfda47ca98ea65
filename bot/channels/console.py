"""The terminal channel: ``voisins chat`` and the fallback of ``voisins run`` with no account anywhere."""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import stat
import sys
from collections.abc import AsyncIterator
from typing import TextIO

from bot.dispatch import Dispatcher
from bot.messages import Channel, Inbound, Reply
from bot.sms_text import render_reply

CONSOLE_ADDRESS = "terminal"
QUIT_WORDS = frozenset({"/quit", "/exit", "/q"})


def render(replies: list[Reply]) -> str:
    """Plain text, choices as numbered lines, exactly as an SMS shows them but without transliteration."""
    blocks = []
    for reply in replies:
        lines = [reply.shown] if reply.shown else []
        lines.extend(f"{i} {c.label}" for i, c in enumerate(reply.choices, start=1))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def can_converse(stdin: TextIO | None) -> bool:
    """True when standard input can carry a conversation: a terminal, a pipe, a socket or a file.

    A service manager gives ``/dev/null`` (a character device the event loop cannot watch: reading
    it would fail, or wait forever), ``nohup`` an unreadable descriptor, and some none at all: then
    ``voisins run`` serves HTTP without the terminal conversation instead of crashing or hanging.
    """
    if stdin is None:
        return False
    try:
        fd = stdin.fileno()
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return True  # a StringIO (tests): read directly
    try:
        mode = os.fstat(fd).st_mode
        access = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    except OSError:
        return False  # closed
    if access == os.O_WRONLY:
        return False
    return os.isatty(fd) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISREG(mode)


class ConsoleChannel:
    """One person talking in the terminal; ``phone`` makes them that person's SMS identity."""

    def __init__(self, dispatcher: Dispatcher, phone: str | None = None) -> None:
        self.dispatcher = dispatcher
        self.channel = Channel.SMS if phone else Channel.CONSOLE
        self.address = phone or CONSOLE_ADDRESS

    async def say(self, text: str) -> list[Reply]:
        return await self.dispatcher.handle(Inbound(channel=self.channel, address=self.address, text=text))

    def show(self, replies: list[Reply]) -> str:
        if self.channel is Channel.SMS:
            return "\n\n".join(render_reply(r) for r in replies)
        return render(replies)

    async def run(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, prompt: str = "> ") -> None:
        """Read lines until end of input or /quit, without blocking the bot's other tasks."""
        stdout.write(self.show(await self.say("/start")) + "\n")
        async for line in _lines(stdin, stdout, prompt):
            if line.strip().lower() in QUIT_WORDS:
                break
            if line.strip():
                stdout.write(self.show(await self.say(line)) + "\n")
        stdout.write("\n")
        stdout.flush()


async def _lines(stdin: TextIO, stdout: TextIO, prompt: str) -> AsyncIterator[str]:
    """Lines of a terminal or pipe read by the event loop; a plain file or StringIO is read directly."""
    loop = asyncio.get_running_loop()
    reader: asyncio.StreamReader | None = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)  # type: ignore[arg-type]
    except (ValueError, OSError, AttributeError, io.UnsupportedOperation):
        reader = None
    while True:
        stdout.write(prompt)
        stdout.flush()
        if reader is not None:
            raw = await reader.readline()
            line = raw.decode("utf-8", errors="replace")
        else:
            line = stdin.readline()
        if not line:
            return
        yield line.rstrip("\n")
