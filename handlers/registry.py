"""The one place where features are registered, in the order their free-text matchers try."""

from __future__ import annotations

from bot.dispatch import Router


def routers() -> list[Router]:
    from handlers import account, broadcast, orientation, people, trocshop

    return [account.router, orientation.router, people.router, broadcast.router, trocshop.router]
