"""The one place where features are registered, and the one order in which their free text is read.

A message that no command, menu number or pending step answered goes to the free-text handlers in
``TEXT_ORDER``; the first that does not answer None wins. The dispatcher refuses to start when a
feature's text handler is missing here, or a name is listed twice or names nothing.
"""

from __future__ import annotations

from bot.dispatch import Router

TEXT_ORDER = (
    # A bare OUI / NON (or 1, 2) a worker types after a shift reminder answers it: before anything else reads it.
    "shifts.reminder_answer",
    # While someone's conversation with the team is open, their own sentences are for the team: before every
    # reader but the reminder's OUI/NON above (the bot's whole-message words, MENU and menu numbers come first).
    "handoff.relay",
    # "modifier mon inscription", "changer mes dispos" from a signed-up volunteer: before the staff's "modifier 12 ...",
    # which always has a number (a bare "modifier" from staff is left to them).
    "volunteers.change",
    # Staff operations without the slash ("annuler creneau 12", "tableau demain"): before the workers' own cancel words.
    "shifts.staff_words",
    # A pay verb with an amount, or solde / historique and a member code: before orientation reads "GV-…" as the site.
    "trocshop.pay",
    # "je peux pas venir", "annuler mon créneau" from a worker: it leaves alone what names the volunteer meeting.
    "shifts.cancel",
    # "planing", "mes horraires", "when is my next shift": workers only, and only when every word is about shifts.
    "shifts.planning",
    # STOP RAPPELS, "prochaine permanence": the volunteer meeting's words, before the broad matcher below.
    "volunteers.meeting",
    # "je voudrais parler à une personne", "need to talk": a request for a person of the team, before the
    # broad matcher reads it as a plea for help ("assistante sociale" is in neither: orientation answers it).
    "handoff.ask",
    # Last: the broadest reader, any question in one's own words (a bed, food, the site) and a shared position.
    "orientation.question",
)


def routers() -> list[Router]:
    from handlers import account, broadcast, handoff, orientation, people, shifts, trocshop, volunteers

    return [
        account.router,
        orientation.router,
        handoff.router,
        people.router,
        broadcast.router,
        trocshop.router,
        shifts.router,
        volunteers.router,
    ]
