"""The Trocshop on the telephone menu: a registered caller hears their own balance, nobody else's."""

from __future__ import annotations

from bot.dispatch import REGISTERED
from bot.voice import Part, Spoken, VoiceCall, VoiceEntry
from handlers.trocshop import ledger, router


async def balance(call: VoiceCall, area: int | None) -> Spoken:
    """Hours and minutes said as numbers; an account never opened is a balance of zero (nothing is written)."""
    assert call.person is not None  # the entry's roles let only a registered caller through
    async with call.store.transaction() as db:
        account = await ledger.find_person_account(db, call.person.id)
        minutes = await ledger.balance(db, account) if account is not None else 0
    hours, rest = divmod(abs(minutes), 60)
    key = "trocshop.voice.balance_negative" if minutes < 0 else "trocshop.voice.balance"
    return Spoken((Part(key, {"hours": hours, "minutes": rest}),))


router.voice(
    VoiceEntry(
        "trocshop.balance",
        "trocshop.voice.menu.balance",
        60,
        balance,
        words="trocshop.voice.balance",
        roles=REGISTERED,
    )
)
