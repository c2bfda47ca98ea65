"""Orientation: a bed tonight (115), day centres, emergency and crisis numbers, the site, help for someone outside.

People ask in their own words, by SMS from basic phones or on Telegram: free text is matched to an
answer (matching.py), and the menus lead to the same answers. Texts are in orientation.po and
orientation_places.po; the places are in the database (directory.py), seeded from
data/orientation/places.yaml and kept by staff with ``voisins places`` (cli.py), who get a Monday notice
of the places to check again (notice.py); stations and neighbours are in landmarks.yaml.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.dispatch import Context, Replies, Router
from bot.messages import Inbound, Reply
from bot.text import fold
from handlers.orientation import answers, content, directory, near, notice, places
from handlers.orientation.cli import places_app
from handlers.orientation.matching import Evidence, Understanding, arrondissement, bare_number, matcher

router = Router("orientation")
router.on_start(directory.seed)
router.configured_outbox_hook(notice.factory)
router.cli("places", places_app, "The places of the orientation answers: import, export, check.")

# Read and check the data once, now: a wrong entry fails at start-up, not in someone's conversation.
matcher()
content.centres()
content.references()
content.landmarks()

STEP_MENU = "orientation.step.menu"  # a menu of ours is shown: keeps the answer's language for its buttons
STEP_WHERE = "orientation.step.where"  # near me / arrondissement / all
STEP_LOCATION = "orientation.step.location"  # waiting for a shared position (or an arrondissement)
STEP_ARRONDISSEMENT = "orientation.step.arrondissement"
PLACE_STEPS = (STEP_WHERE, STEP_LOCATION, STEP_ARRONDISSEMENT)
# To switch someone to the site's own language for one answer takes two of its words, not one:
# "douche" or "bonjour" are words people use in Paris whatever their language.
WORDS_TO_SWITCH_TO_DEFAULT = 2

router.menu_entry("orientation.sleep", "orientation.menu.sleep", order=10)
router.menu_entry("orientation.centres", "orientation.menu.centres", order=20)
router.menu_entry("orientation.emergency", "orientation.menu.emergency", order=30)
router.menu_entry("orientation.street", "orientation.menu.street", order=40)
router.menu_entry("orientation.site", "orientation.menu.site", order=50)


# -- language of one answer ------------------------------------------------------------------


def _answer_in_their_words(ctx: Context, evidence: Evidence) -> None:
    """Answer a question clearly written in another language in that language, this time only.

    The stored choice is not touched: ``ctx.language`` lives for this message, and a menu shown
    now keeps it in its step's data for the buttons pressed next.
    """
    for language in ctx.i18n.languages:
        if language == ctx.language or not ctx.i18n.has("orientation.shelter", language):
            continue
        needed = WORDS_TO_SWITCH_TO_DEFAULT if language == ctx.i18n.default_language else 1
        if evidence.clearly(language) >= needed:
            ctx.language = language
            return


def _resume_language(ctx: Context) -> None:
    """A button of a menu we showed answers in the language that menu was shown in."""
    if ctx.step is not None and ctx.step.startswith("orientation."):
        language = ctx.data.get("lang")
        if isinstance(language, str) and language in ctx.i18n.catalogs:
            ctx.language = language


def _goto(ctx: Context, step: str, **data: Any) -> None:
    ctx.goto(step, lang=ctx.language, **data)


def _service(key: str) -> tuple[str | None, bool]:
    """A menu's service key as (service, women): "any" is every service, "women" the women's places."""
    if key == "women":
        return None, True
    if key in content.centres().services:
        return key, False
    return None, False


# -- crisis: before anything else --------------------------------------------------------------


@router.urgent
async def crisis(inbound: Inbound, ctx: Context) -> Replies:
    """Danger words get the emergency numbers first, whatever step the person was in."""
    if not inbound.text:
        return None
    danger = matcher(ctx.i18n).crisis(inbound.text)
    if not danger.kinds:
        return None
    _answer_in_their_words(ctx, danger)
    return [answers.crisis(ctx, danger.kinds, ctx.i18n)]


# -- free text -------------------------------------------------------------------------------


@router.text("orientation.question")
async def free_text(inbound: Inbound, ctx: Context) -> Replies:
    """A question in the person's own words; None when it is not about orientation."""
    if inbound.location is not None and not inbound.text.strip():
        ctx.done()
        return [await _nearest(inbound, ctx, "any")]
    understood = matcher(ctx.i18n).understand(inbound.text)
    intent = understood.intent
    if intent is None:
        return None
    if intent == "thanks" and any(character.isdigit() for character in inbound.text):
        return None  # "ok 4721" is a code typed back: the engine says whether it was already done
    _answer_in_their_words(ctx, understood)
    ctx.done()
    if intent in answers.WITH_MENU:
        _goto(ctx, STEP_MENU)  # its buttons answer in the language it was shown in
        return [answers.WITH_MENU[intent](ctx, ctx.menu().choices)]
    if intent in answers.FIXED:
        return [answers.fixed(ctx, intent)]
    if intent == "site":
        _goto(ctx, STEP_MENU)
        return [answers.site_menu(ctx)]
    if intent in answers.SITE_TOPICS:
        return [answers.topic(ctx, intent)]
    service = intent if intent in content.centres().services else None
    if intent == "health":
        care = answers.care(ctx)
        return [care, await _place_list(inbound, ctx, understood, service, after=(care,))]
    return [await _place_list(inbound, ctx, understood, service)]


async def _place_list(
    inbound: Inbound, ctx: Context, understood: Understanding, service: str | None, after: Sequence[Reply] = ()
) -> Reply:
    """The places for a question in words: where ("13e", "75013", "gare de l'Est") and who is asking
    (women, an age, children) decide which places and in which order; ``after`` are the replies the
    list follows in the same answer."""
    person = places.asker(inbound.text, ctx.i18n, women=understood.women, young=understood.young)
    where = near.where(inbound.text) or near.Where()
    return answers.centre_list(
        ctx,
        ctx.local_now(),
        await directory.current(ctx.store),
        service=service,
        arrondissement=where.arrondissement,
        landmark=where.landmark,
        person=person,
        after=after,
    )


# -- menus -----------------------------------------------------------------------------------


@router.action("orientation.sleep")
async def sleep_tonight(inbound: Inbound, ctx: Context) -> Replies:
    _resume_language(ctx)
    ctx.done()
    return [answers.fixed(ctx, "shelter")]


@router.action("orientation.emergency")
async def emergency_numbers(inbound: Inbound, ctx: Context) -> Replies:
    _resume_language(ctx)
    ctx.done()
    return [answers.fixed(ctx, "emergency")]


@router.action("orientation.street")
async def someone_outside(inbound: Inbound, ctx: Context) -> Replies:
    _resume_language(ctx)
    ctx.done()
    return [answers.fixed(ctx, "street")]


@router.action("orientation.site")
async def the_site(inbound: Inbound, ctx: Context) -> Replies:
    _resume_language(ctx)
    _goto(ctx, STEP_MENU)
    return [answers.site_menu(ctx)]


@router.action("orientation.topic")
async def site_topic(inbound: Inbound, ctx: Context) -> Replies:
    _resume_language(ctx)
    name = (inbound.choice or "").partition(":")[2]
    if name not in answers.SITE_TOPICS:
        _goto(ctx, STEP_MENU)
        return [answers.site_menu(ctx)]
    ctx.done()
    return [answers.topic(ctx, name)]


@router.action("orientation.centres")
async def day_centres(inbound: Inbound, ctx: Context) -> Replies:
    """First the service, then where: two short questions fit a basic phone's screen."""
    _resume_language(ctx)
    _goto(ctx, STEP_MENU)
    return [answers.choose_service(ctx)]


@router.action("orientation.service")
async def chosen_service(inbound: Inbound, ctx: Context) -> Replies:
    _resume_language(ctx)
    key = (inbound.choice or "").partition(":")[2]
    if key not in answers.MENU_SERVICES:
        _goto(ctx, STEP_MENU)
        return [answers.choose_service(ctx)]
    _goto(ctx, STEP_WHERE, service=key)
    return [answers.choose_where(ctx, key)]


@router.action("orientation.where")
async def chosen_where(inbound: Inbound, ctx: Context) -> Replies:
    _resume_language(ctx)
    mode, _, key = (inbound.choice or "").partition(":")[2].partition(":")
    if key not in answers.MENU_SERVICES:
        _goto(ctx, STEP_MENU)
        return [answers.choose_service(ctx)]
    if mode == "near":
        _goto(ctx, STEP_LOCATION, service=key)
        return [answers.ask_location(ctx)]
    if mode == "arr":
        _goto(ctx, STEP_ARRONDISSEMENT, service=key)
        return [answers.ask_arrondissement(ctx)]
    ctx.done()
    service, women = _service(key)
    shown = await directory.current(ctx.store)
    return [answers.centre_list(ctx, ctx.local_now(), shown, service=service, women=women, everything=True)]


@router.step(STEP_MENU)
async def after_menu(inbound: Inbound, ctx: Context) -> Replies:
    """Typed text after one of our menus is a new question: free text answers it."""
    return None


async def _place(inbound: Inbound, ctx: Context) -> Replies:
    """A position, an arrondissement or a station for the service chosen before; anything else is a
    new question ("Montparnasse" alone is a place here, though it also names the site's street team)."""
    key = str(ctx.data.get("service", "any"))
    if inbound.location is not None:
        _resume_language(ctx)
        ctx.done()
        return [await _nearest(inbound, ctx, key)]
    understood = matcher(ctx.i18n).understand(inbound.text)
    landmark = near.landmark(inbound.text)
    named_alone = landmark is not None and fold(inbound.text) in landmark.aliases
    if understood.intent not in (None, "centres") and not named_alone:
        return None
    number = arrondissement(inbound.text, bare=True)
    if number is not None or landmark is not None:
        _resume_language(ctx)
        ctx.done()
        service, women = _service(key)
        return [
            answers.centre_list(
                ctx,
                ctx.local_now(),
                await directory.current(ctx.store),
                service=service,
                arrondissement=number,
                landmark=None if number is not None else landmark,
                women=women,
            )
        ]
    if bare_number(inbound.text) is not None:
        _resume_language(ctx)
        return [answers.bad_arrondissement(ctx)]
    return None


for _step in PLACE_STEPS:
    router.step(_step)(_place)


async def _nearest(inbound: Inbound, ctx: Context, key: str) -> Reply:
    assert inbound.location is not None
    service, women = _service(key)
    location = inbound.location
    shown = await directory.current(ctx.store)
    return answers.nearest_list(
        ctx, ctx.local_now(), shown, location.latitude, location.longitude, service=service, women=women
    )


# The console's Places page uses the directory above; imported last, once the router exists.
from handlers.orientation import console as _console  # noqa: E402, F401
from handlers.orientation import voice as _voice  # noqa: E402, F401  (the telephone menu)
