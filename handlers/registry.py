"""The one place where features are registered, in the order their free-text matchers try."""

from __future__ import annotations

from bot.dispatch import Router


def routers() -> list[Router]:
    from handlers import account, broadcast, orientation, people, shifts, trocshop, volunteers

    return [
        account.router,
        orientation.router,
        people.router,
        broadcast.router,
        trocshop.router,
        shifts.router,
        volunteers.router,
    ]
