"""Volunteers in chat: signing up, the next volunteer meeting, STOP RAPPELS, and the staff's calendar.

Anyone may sign up, a guest included: a would-be volunteer has no account and should not need one.
Four questions (name, activities, when free, may we contact you), one message each, answerable by
SMS from a basic phone: activities by their numbers ("1 3") or in words ("jardin, cuisine"). Then
they can review, change one answer, or withdraw (after OUI: it erases the sign-up). Staff are told
of each new sign-up through the outbox, list sign-ups (/benevoles) and change the meeting calendar,
each change after OUI (it tells every volunteer). Both OUI are guarded: by SMS, OUI with the
prompt's code (see :mod:`bot.confirm`). The consent question is an answer, not such a prompt.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

import aiosqlite
from rapidfuzz import fuzz

from bot import confirm, people
from bot.dispatch import STAFF_ROLES, Context, Replies, Router
from bot.i18n import I18n
from bot.messages import Choice, Inbound, Reply
from bot.people import Role
from bot.people.roster import display_phone
from bot.store import Store
from bot.text import FarDate, fold, typed_day
from handlers.volunteers import calendar, ics, reminders, signups, staff, texts
from handlers.volunteers.calendar import CalendarError
from handlers.volunteers.cli import permanence_app, volunteers_app
from handlers.volunteers.signups import ACTIVITIES, Signup

log = logging.getLogger(__name__)

router = Router("volunteers")
router.message_kind("meeting_reminder", rf"^{reminders.PREFIX}[^:]+:({reminders.DAY_BEFORE}|{reminders.SAME_DAY})$")
router.menu_entry("volunteers.signup", "volunteers.menu_label", order=60)
# AIDE for a registered person: anyone may sign up; the meeting is offered to those who volunteer.
router.help_entry("volunteers.signup", "volunteers.help_signup", order=30)
router.help_entry("volunteers.next", "volunteers.help_next", order=31, visible=lambda p: Role.VOLUNTEER in p.roles)
router.cli("volunteers", volunteers_app, "Volunteer sign-ups: list and export.")
router.cli("permanence", permanence_app, "The fortnightly volunteer meeting: reference, list, cancel, move, add.")
router.configured_outbox_hook(reminders.factory)
router.route(texts.ICS_PATH, ics.endpoint, methods=("GET",))
router.personal_data(signups.export, signups.erase)

STEP_NAME = "volunteers.name"
STEP_ACTIVITIES = "volunteers.activities"
STEP_AVAILABILITY = "volunteers.availability"
STEP_CONSENT = "volunteers.consent"
# "Que voulez-vous modifier ?": a question, so the field's name typed back ("disponibilites") answers it.
STEP_EDIT_WHICH = "volunteers.edit_which"
FIELDS = {"name": STEP_NAME, "activities": STEP_ACTIVITIES, "availability": STEP_AVAILABILITY, "consent": STEP_CONSENT}
STAFF_LIST_MEETINGS = 8
NEXT_DATES = 3  # the next meeting and the two after it
# A short message about changing one's sign-up ("modifier mes dispos"); longer ones are about something else.
EDIT_WORDS = 8
# Typos of a verb of change: stricter than other words, so "chance" is not "change".
VERB_CUTOFF = 85


def _like(word: str, targets: frozenset[str], cutoff: float = 80) -> bool:
    """One of the words, or a typo of one: fuzzy between words of five letters or more ("permanance")."""
    return word in targets or (
        len(word) >= 5 and any(len(target) >= 5 and fuzz.ratio(word, target) >= cutoff for target in targets)
    )


def _yes_no(ctx: Context, key: str) -> tuple[Choice, ...]:
    return (Choice(f"{key}:yes", ctx.t("volunteers.yes")), Choice(f"{key}:no", ctx.t("volunteers.no")))


def _answer(inbound: Inbound, ctx: Context) -> bool | None:
    """A typed or pressed OUI / NON; None when it is neither."""
    if inbound.choice is not None:
        return {"yes": True, "no": False}.get(inbound.choice.partition(":")[2])
    word = fold(inbound.text)
    return True if word in ctx.i18n.words(confirm.YES) else False if word in ctx.i18n.words(confirm.NO) else None


# --- The next meeting --------------------------------------------------------------------------


async def _next_text(ctx: Context) -> str:
    found = await calendar.coming(ctx.store, ctx.settings.tz, ctx.now(), NEXT_DATES)
    return texts.next_meeting(ctx.i18n, ctx.language, found, ctx.settings.public_url, ctx.now())


@router.command("/permanence", "/meeting", words="volunteers.next_meeting")
@router.action("volunteers.next")
async def next_meeting(inbound: Inbound, ctx: Context) -> Replies:
    """The next meeting that takes place, with the place, the hours and what changed."""
    ctx.done()
    return [Reply(await _next_text(ctx))]


def _asks_next_meeting(words: list[str], i18n: I18n) -> bool:
    """ "prochaine permanance", "kan c la perm", "when is the next volunteer meeting"."""
    if any(w in i18n.words("volunteers.other_permanences") for w in words):
        return False
    if any(_like(w, i18n.words("volunteers.meeting_like")) for w in words):
        return True
    gathering, volunteers = i18n.words("volunteers.gathering_like"), i18n.words("volunteers.volunteer_like")
    return any(_like(w, gathering) for w in words) and any(_like(w, volunteers) for w in words)


def _about_reminders(words: list[str], i18n: I18n) -> bool | None:
    """True: stop the meeting reminders; False: start them again; None: not about them."""
    if len(words) > 6 or not any(_like(w, i18n.words("volunteers.reminder_like")) for w in words):
        return None
    if any(w in i18n.words("volunteers.stop") for w in words):
        return True
    if any(w in i18n.words("volunteers.start") for w in words):
        return False
    return None


@router.text("volunteers.meeting")
async def free_text(inbound: Inbound, ctx: Context) -> Replies:
    words = fold(inbound.text).split()[:30]
    if not words:
        return None
    stop = _about_reminders(words, ctx.i18n)
    if stop is not None:
        return await _reminders(ctx, on=not stop)
    if _asks_next_meeting(words, ctx.i18n):
        return await next_meeting(inbound, ctx)
    return None


# --- STOP RAPPELS --------------------------------------------------------------------------------


async def _reminders(ctx: Context, on: bool) -> Replies:
    ctx.done()
    async with ctx.store.transaction() as db:
        signup = await signups.get(db, ctx.person.id)
        if signup is not None:
            await signups.set_reminders(db, ctx.now(), ctx.person.id, on)
    if signup is None:
        return [
            Reply(
                ctx.t("volunteers.reminders_not_signed_up"),
                (Choice("volunteers.signup", ctx.t("volunteers.menu_label")),),
            )
        ]
    if on and not signup.consent:
        return [Reply(ctx.t("volunteers.reminders_no_consent"))]
    log.info("person %s turned meeting reminders %s", ctx.person.id, "on" if on else "off")
    return [Reply(ctx.t("volunteers.reminders_on" if on else "volunteers.reminders_off"))]


@router.command("/stoprappels", "/stopreminders", words="volunteers.stop_reminders")
async def stop_reminders(inbound: Inbound, ctx: Context) -> Replies:
    """Only the meeting reminders stop; every other message still comes (unlike STOP)."""
    return await _reminders(ctx, on=False)


@router.command("/rappels", "/reminders", words="volunteers.start_reminders")
async def start_reminders(inbound: Inbound, ctx: Context) -> Replies:
    return await _reminders(ctx, on=True)


# --- Signing up ----------------------------------------------------------------------------------


def _activities_question(ctx: Context, key: str = "volunteers.ask_activities") -> Reply:
    """The list is in the text, not as choices: "1 3" answers it, and so does a single "2"."""
    listed = "\n".join(f"{n} {ctx.t(f'volunteers.activity_{a}')}" for n, a in enumerate(ACTIVITIES, start=1))
    return Reply(f"{ctx.t(key)}\n{listed}")


def _summary(ctx: Context, signup: Signup) -> str:
    return ctx.t(
        "volunteers.summary",
        name=signup.name,
        activities=signups.activity_labels(ctx.i18n, ctx.language, signup.activities),
        availability=signup.availability,
        consent=ctx.t("volunteers.reminders_state_on" if signup.consent else "volunteers.reminders_state_off"),
        reminders=ctx.t("volunteers.reminders_state_on" if signup.gets_reminders else "volunteers.reminders_state_off"),
    )


def _review(ctx: Context, signup: Signup, head: str | None = None) -> Reply:
    text = _summary(ctx, signup) if head is None else f"{head}\n{_summary(ctx, signup)}"
    choices = (
        Choice("volunteers.edit", ctx.t("volunteers.choice_edit")),
        Choice("volunteers.withdraw", ctx.t("volunteers.choice_withdraw")),
        Choice("volunteers.next", ctx.t("volunteers.choice_next")),
    )
    return Reply(text, choices)


async def _signup(ctx: Context) -> Signup | None:
    async with ctx.store.transaction() as db:
        return await signups.get(db, ctx.person.id)


@router.command("/benevole", "/volunteer", "/signup", "/inscription", words="volunteers.signup")
@router.action("volunteers.signup")
async def start(inbound: Inbound, ctx: Context) -> Replies:
    """A new volunteer is asked their name; someone signed up sees their sign-up and what they can do."""
    signup = await _signup(ctx)
    if signup is not None:
        ctx.done()
        return [_review(ctx, signup)]
    ctx.goto(STEP_NAME, mode="new")
    return [Reply(ctx.t("volunteers.intro"))]


@router.step(STEP_NAME)
async def name_step(inbound: Inbound, ctx: Context) -> Replies:
    name = signups.clean_name(inbound.text)
    if name is None:
        return [Reply(ctx.t("volunteers.bad_name"))]
    if ctx.data.get("mode") == "edit":
        return await _save_field(ctx, name=name)
    ctx.goto(STEP_ACTIVITIES, mode="new", name=name)
    return [_activities_question(ctx)]


@router.step(STEP_ACTIVITIES)
async def activities_step(inbound: Inbound, ctx: Context) -> Replies:
    chosen = signups.parse_activities(inbound.text, ctx.i18n)
    if not chosen:
        return [_activities_question(ctx, "volunteers.bad_activities")]
    if ctx.data.get("mode") == "edit":
        return await _save_field(ctx, activities=chosen)
    ctx.goto(STEP_AVAILABILITY, **{**ctx.data, "activities": list(chosen)})
    labels = signups.activity_labels(ctx.i18n, ctx.language, chosen)
    return [Reply(ctx.t("volunteers.ask_availability", activities=labels))]


@router.step(STEP_AVAILABILITY)
async def availability_step(inbound: Inbound, ctx: Context) -> Replies:
    availability = signups.clean_availability(inbound.text)
    if availability is None:
        return [Reply(ctx.t("volunteers.bad_availability"))]
    if ctx.data.get("mode") == "edit":
        return await _save_field(ctx, availability=availability)
    ctx.goto(STEP_CONSENT, **{**ctx.data, "availability": availability})
    return [Reply(ctx.t("volunteers.ask_consent"), _yes_no(ctx, "volunteers.consent"))]


@router.step(STEP_CONSENT)
@router.action("volunteers.consent")
async def consent_step(inbound: Inbound, ctx: Context) -> Replies:
    if ctx.step != STEP_CONSENT:
        return await start(inbound, ctx)  # an old button: show where they are
    consent = _answer(inbound, ctx)
    if consent is None:
        return [Reply(ctx.t("volunteers.ask_consent"), _yes_no(ctx, "volunteers.consent"))]
    if ctx.data.get("mode") == "edit":
        return await _save_field(ctx, consent=consent)
    return await _create(ctx, consent)


async def _create(ctx: Context, consent: bool) -> Replies:
    data = ctx.data
    now = ctx.now()
    async with ctx.store.transaction() as db:
        signup, new = await signups.save(
            db,
            now,
            ctx.person.id,
            name=data["name"],
            activities=data["activities"],
            availability=data["availability"],
            consent=consent,
        )
        # Reminders and notices go out in the language of the conversation they signed up in.
        await db.execute(
            "UPDATE persons SET language = COALESCE(language, ?) WHERE id = ?", (ctx.language, ctx.person.id)
        )
        if new:
            await _tell_staff(ctx, db, signup)
        found = await calendar.coming(db, ctx.settings.tz, now, 1)
    ctx.done()
    if ctx.outbox is not None:
        ctx.outbox.wake()
    log.info("volunteer sign-up %s (person %s)", signup.id, ctx.person.id)
    live = next((m for m in found if m.live), None)
    place = ctx.t("volunteers.place")
    meeting = (
        ctx.t("volunteers.thanks_meeting", when=texts.when(ctx.i18n, ctx.language, live), place=place)
        if live is not None
        else ctx.t("volunteers.thanks_rule", hours=texts.rule_hours(ctx.i18n, ctx.language), place=place)
    )
    after = ctx.t("volunteers.thanks_reminders" if consent else "volunteers.thanks_no_contact")
    return [Reply(ctx.t("volunteers.thanks", name=signup.name, meeting=meeting, after=after))]


async def _tell_staff(ctx: Context, db: aiosqlite.Connection, signup: Signup) -> None:
    """Each member of staff learns of a new sign-up, in their language, in the sign-up's transaction."""
    person = await people.get_person(db, ctx.person.id)
    async with db.execute(
        "SELECT DISTINCT p.id FROM persons p JOIN person_roles r ON r.person_id = p.id"
        " WHERE p.status = 'active' AND r.role IN ('staff', 'admin') AND p.id != ?",
        (ctx.person.id,),
    ) as cursor:
        staff_ids = [row[0] for row in await cursor.fetchall()]

    def text_of(language: str) -> str:
        who = person.member_code or ctx.i18n.t(language, "volunteers.guest")
        return ctx.i18n.t(
            language,
            "volunteers.staff_new",
            name=signup.name,
            who=who,
            activities=signups.activity_labels(ctx.i18n, language, signup.activities),
            availability=signup.availability,
            consent=ctx.i18n.t(language, "volunteers.yes" if signup.consent else "volunteers.no"),
        )

    for staff_id in staff_ids:
        await reminders.tell(
            db, ctx.now(), ctx.i18n, staff_id, f"volunteer-signup:{signup.id}", text_of, ctx.now(), about=ctx.person.id
        )


async def _save_field(ctx: Context, **changed: object) -> Replies:
    async with ctx.store.transaction() as db:
        signup = await signups.get(db, ctx.person.id)
        if signup is None:
            ctx.done()
            return [
                Reply(ctx.t("volunteers.not_signed_up"), (Choice("volunteers.signup", ctx.t("volunteers.menu_label")),))
            ]
        values = {
            "name": signup.name,
            "activities": signup.activities,
            "availability": signup.availability,
            "consent": signup.consent,
            **changed,
        }
        signup, _ = await signups.save(db, ctx.now(), ctx.person.id, **values)  # type: ignore[arg-type]
    ctx.done()
    return [_review(ctx, signup, ctx.t("volunteers.changed"))]


@router.action("volunteers.edit")
async def edit(inbound: Inbound, ctx: Context) -> Replies:
    """Change one answer: the choice says which; without one, the choices are shown."""
    signup = await _signup(ctx)
    if signup is None:
        return await start(inbound, ctx)
    field = (inbound.choice or "").partition(":")[2]
    return _edit(ctx, field if field in FIELDS else None)


def _field_named(words: list[str], i18n: I18n) -> str | None:
    """The answer a message names ("mes dispos", "le nom"), typos tolerated; None when none or several."""
    field_words = {
        "name": i18n.words("volunteers.edit_name"),
        "activities": i18n.words("volunteers.edit_activities"),
        "availability": i18n.words("volunteers.edit_availability"),
        "consent": i18n.words("volunteers.edit_consent"),
    }
    named = {field for field, targets in field_words.items() if any(_like(w, targets) for w in words)}
    return named.pop() if len(named) == 1 else None


@router.step(STEP_EDIT_WHICH)
async def edit_which_step(inbound: Inbound, ctx: Context) -> Replies:
    """ "Disponibilites", "le nom", typed instead of a number; anything else is not an answer, and others read it."""
    field = _field_named(fold(inbound.text).split()[:EDIT_WORDS], ctx.i18n)
    if field is None:
        ctx.done()
        return None
    return _edit(ctx, field)


@router.text("volunteers.change")
async def change_text(inbound: Inbound, ctx: Context) -> Replies:
    """ "modifier", "modifier mon inscription", "changer mes dispos" from someone signed up: the edit.

    The review's "Modifier" typed as a word on a basic phone, and the thanks' "INSCRIPTION : ... modifier",
    must not end in the main menu. A message with a number is someone else's ("modifier 12 places 5", a
    staff change to a shift); so is a bare verb from staff, whose plain words read it next.
    """
    words = fold(inbound.text).split()
    if not words or len(words) > EDIT_WORDS or any(w.isdigit() for w in words):
        return None
    verbs = ctx.i18n.words("volunteers.edit_verbs")
    if not any(_like(w, verbs, VERB_CUTOFF) for w in words):
        return None
    field = _field_named(words, ctx.i18n)
    about_signup = any(_like(w, ctx.i18n.words("volunteers.signup_nouns")) for w in words)
    fillers = verbs | ctx.i18n.words("volunteers.edit_fillers")
    bare = all(_like(w, verbs, VERB_CUTOFF) or w in fillers for w in words)
    if field is None and not about_signup and not (bare and not ctx.person.is_staff):
        return None
    if await _signup(ctx) is None:
        return None  # another "inscription" than the volunteers' (someone not signed up): others answer
    return _edit(ctx, field)


def _edit(ctx: Context, field: str | None) -> Replies:
    """Ask for the new value of ``field``; without one, which answer to change (a question, typed or chosen)."""
    if field is None:
        ctx.goto(STEP_EDIT_WHICH)
        choices = tuple(Choice(f"volunteers.edit:{f}", ctx.t(f"volunteers.field_{f}")) for f in FIELDS)
        return [Reply(ctx.t("volunteers.edit_which"), choices)]
    ctx.goto(FIELDS[field], mode="edit")
    if field == "name":
        return [Reply(ctx.t("volunteers.ask_name"))]
    if field == "activities":
        return [_activities_question(ctx)]
    if field == "availability":
        return [Reply(ctx.t("volunteers.ask_availability_again"))]
    return [Reply(ctx.t("volunteers.ask_consent"), _yes_no(ctx, "volunteers.consent"))]


@router.command("/desinscription", words="volunteers.withdraw", typos=False)
@router.action("volunteers.withdraw")
async def withdraw(inbound: Inbound, ctx: Context) -> Replies:
    if await _signup(ctx) is None:
        ctx.done()
        return [
            Reply(ctx.t("volunteers.not_signed_up"), (Choice("volunteers.signup", ctx.t("volunteers.menu_label")),))
        ]
    return [await WITHDRAW.ask(ctx, ctx.t("volunteers.withdraw_ask"))]


async def _withdraw(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The sign-up is erased only on a confirmed OUI."""
    await signups.withdraw(db, ctx.person.id)
    log.info("person %s withdrew their volunteer sign-up", ctx.person.id)
    return [Reply(ctx.t("volunteers.withdrawn"))]


WITHDRAW = router.confirmation(
    confirm.Operation(
        "volunteers.withdraw",
        _withdraw,
        texts=confirm.Texts(cancelled="volunteers.withdraw_kept", nothing_pending="volunteers.nothing_pending"),
    )
)


# --- Staff ---------------------------------------------------------------------------------------


@router.command("/benevoles", "/volunteers", roles=STAFF_ROLES, help="volunteers.about_list")
async def staff_list(inbound: Inbound, ctx: Context) -> Replies:
    """Every sign-up; how to reach someone only when they agreed to be contacted."""
    ctx.done()
    async with ctx.store.transaction() as db:
        found = await signups.listing(db)
    if not found:
        return [Reply(ctx.t("volunteers.staff_none"))]
    lines = [ctx.t("volunteers.staff_list_head", count=len(found))]
    for n, (signup, row) in enumerate(found, start=1):
        if not signup.consent:
            contact = ctx.t("volunteers.contact_no")
        elif row["phone"]:
            contact = display_phone(row["phone"])
        elif row["telegram"]:
            contact = ctx.t("volunteers.contact_telegram")
        else:
            contact = "-"
        lines.append(
            ctx.t(
                "volunteers.staff_line",
                n=n,
                name=signup.name,
                who=row["member_code"] or ctx.t("volunteers.guest"),
                activities=signups.activity_labels(ctx.i18n, ctx.language, signup.activities),
                availability=signup.availability,
                contact=contact,
            )
        )
    return [Reply("\n".join(lines))]


@router.command("/permanences", "/meetings", roles=STAFF_ROLES, help="volunteers.about_meetings")
async def staff_meetings(inbound: Inbound, ctx: Context) -> Replies:
    """The coming dates with their changes, and the commands that change them."""
    ctx.done()
    ref = await calendar.reference(ctx.store)
    found = await calendar.coming(ctx.store, ctx.settings.tz, ctx.now(), STAFF_LIST_MEETINGS)
    lines = [
        ctx.t("volunteers.staff_reference", day=texts.full_day_text(ref, ctx.language))
        if ref
        else ctx.t("volunteers.staff_no_reference")
    ]
    lines += [texts.staff_line(ctx.i18n, ctx.language, m) for m in found]
    lines.append(ctx.t("volunteers.staff_commands"))
    return [Reply("\n".join(lines))]


def chat_day(text: str, today: date) -> date:
    """Staff type 2026-12-02, 02/12/2026 or 2/12 (the next such date)."""
    try:
        found = typed_day(text, today)
    except FarDate as far:
        raise CalendarError(far.key, **far.params) from None
    if found is None:
        raise CalendarError("volunteers.err_date", text=text[:20])
    return found


def _parse_staff(inbound: Inbound, op: str, today: date) -> staff.Change:
    """``/permanence_deplacer 2026-12-02 2026-12-03 19:00-20:30 travaux``: dates, optional hours, reason."""
    words = inbound.text.split()[1:]
    if not words:
        raise CalendarError(f"volunteers.usage_{op}")
    day = chat_day(words.pop(0), today)
    new_day = None
    if op == "move":
        if not words:
            raise CalendarError("volunteers.usage_move")
        new_day = chat_day(words.pop(0), today)
    hours = None
    if op in ("move", "add") and words and re.match(r"^\d{1,2}[:h]", words[0]):
        hours = calendar.parse_hours(words.pop(0))
    return staff.make(op, day, new_day=new_day, hours=hours, reason=" ".join(words) or None)


async def _staff_ask(inbound: Inbound, ctx: Context, op: str) -> Replies:
    ctx.done()
    tz = ctx.settings.tz
    try:
        change = _parse_staff(inbound, op, ctx.local_now().date())
        async with ctx.store.transaction() as db:
            await staff.check(db, tz, ctx.now(), change)
            effects = await staff.effects(db, tz, ctx.now(), change)
    except CalendarError as exc:
        return [Reply(texts.error_text(ctx.i18n, ctx.language, exc))]
    text = staff.preview(ctx.i18n, ctx.language, tz, change, effects.told, effects.dropped)
    return [await CALENDAR_CHANGE.ask(ctx, text, change=change.as_data())]


@router.command("/permanence_reference", "/meeting_reference", roles=STAFF_ROLES, help="volunteers.about_reference")
async def staff_reference(inbound: Inbound, ctx: Context) -> Replies:
    """The Wednesday the fortnightly meetings count from."""
    return await _staff_ask(inbound, ctx, "reference")


@router.command("/permanence_annuler", "/meeting_cancel", roles=STAFF_ROLES, help="volunteers.about_cancel")
async def staff_cancel(inbound: Inbound, ctx: Context) -> Replies:
    return await _staff_ask(inbound, ctx, "cancel")


@router.command("/permanence_deplacer", "/meeting_move", roles=STAFF_ROLES, help="volunteers.about_move")
async def staff_move(inbound: Inbound, ctx: Context) -> Replies:
    return await _staff_ask(inbound, ctx, "move")


@router.command("/permanence_ajouter", "/meeting_add", roles=STAFF_ROLES, help="volunteers.about_add")
async def staff_add(inbound: Inbound, ctx: Context) -> Replies:
    return await _staff_ask(inbound, ctx, "add")


async def _change_calendar(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """OUI makes the change (checked again) and queues its notices; NON, or the expiry, changes nothing."""
    change = staff.Change.of(data["change"])
    try:
        meeting, notified = await staff.apply(db, ctx.settings.tz, ctx.now(), ctx.i18n, change, ctx.person.id)
    except CalendarError as exc:
        raise confirm.Refused.saying(texts.error_text(ctx.i18n, ctx.language, exc)) from exc
    log.info("staff %s changed the meeting calendar (%s %s)", ctx.person.id, change.op, change.day)
    return [Reply(staff.done(ctx.i18n, ctx.language, change, meeting, notified))]


CALENDAR_CHANGE = router.confirmation(
    confirm.Operation(
        "volunteers.staff_confirm",
        _change_calendar,
        roles=STAFF_ROLES,
    )
)


# --- Demo ----------------------------------------------------------------------------------------


@router.demo
async def _demo(store: Store, now: datetime) -> None:
    """Lucie has signed up; the rhythm starts on a Wednesday a week away or more (no reminder is due at once)."""
    async with store.transaction() as db:
        day = now.date() + timedelta(days=7)
        day += timedelta(days=(calendar.WEDNESDAY - day.weekday()) % 7)
        await calendar.set_reference(db, now, day, None)
        lucie = await people.find_person_id(db, member_code="GV-MRT4")
        if lucie is not None:
            await signups.save(
                db,
                now,
                lucie,
                name="Lucie Martin",
                activities=("gardening", "kitchen"),
                availability="le samedi",
                consent=True,
            )


from handlers.volunteers import console as _console  # noqa: E402, F401
from handlers.volunteers import voice as _voice  # noqa: E402, F401  (the telephone menu)
