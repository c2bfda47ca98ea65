"""Settings, read once from the environment and ``.env``; every key is documented in ``.env.example``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# A language code as the folders of data/locales/ are named: fr, es, pt_BR.
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$")
# The catalogs shipped with the bot; LOCALES_DIR points elsewhere (a translator's copy, a test's).
LOCALES_DIR = Path(__file__).resolve().parent.parent / "data" / "locales"
# LANGUAGES when .env does not say: French, English, Arabic, Dari (Babel has no "prs": Dari is Persian
# as written in Afghanistan, fa_AF), Pashto, Tigrinya. A deployment narrows them in .env.
DEFAULT_LANGUAGES = ("fr", "en", "ar", "fa_AF", "ps", "ti")
# The channels the outbox sends on, in CHANNEL_ORDER.
_SENDING_CHANNELS = ("telegram", "whatsapp", "sms")
# Keys whose empty value means something other than "use the default".
_EMPTY_IS_A_VALUE = frozenset({"sms_quiet_hours"})


class ConfigError(Exception):
    """A setting is missing or wrong: the message says which and how to fix it."""


class Settings(BaseSettings):
    """The bot's configuration. Names are a contract with deployments: do not rename them."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_path: Path = Path("var/voisins.db")
    timezone: str = "Europe/Paris"
    # The languages the bot speaks, each a folder of LOCALES_DIR (catalogs and keyword files);
    # DEFAULT_LANGUAGE is one of them: what a person who never chose gets, and the broadcasts' main text.
    languages: Annotated[tuple[str, ...], NoDecode] = DEFAULT_LANGUAGES
    default_language: str = "fr"
    locales_dir: Path = LOCALES_DIR
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None
    telegram_max_per_second: float = Field(default=30, gt=0)

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    sms_max_per_second: float = Field(default=1, gt=0)
    # WhatsApp through Twilio: on when TWILIO_WHATSAPP_FROM (whatsapp:+33...) is set. Outside the 24 hours
    # after a person's last message only an approved template may be sent: WHATSAPP_TEMPLATES is JSON,
    # a Content SID (HX...) per kind of message, or per kind and language:
    # {"shift_reminder": "HX...", "broadcast": {"fr": "HX...", "en": "HX..."}}.
    twilio_whatsapp_from: str | None = None
    whatsapp_max_per_second: float = Field(default=10, gt=0)
    whatsapp_templates: Annotated[dict[str, str | dict[str, str]], NoDecode] = {}
    # The channel a person with several gets what is not an answer on, first reachable first.
    channel_order: Annotated[tuple[str, ...], NoDecode] = ("telegram", "whatsapp", "sms")
    # The telephone menu (POST /twilio/voice), with Twilio; VOICE_ENABLED=false turns it off.
    voice_enabled: bool = True
    # Recordings of the spoken prompts for the languages Twilio cannot speak: <dir>/<language>/<key>.mp3.
    voice_recordings_dir: Path = Path(__file__).resolve().parent.parent / "data" / "voice"
    # Broadcasts: an estimate of Twilio's price of one SMS segment, in euros, shown in the preview.
    sms_price_per_segment: float = Field(default=0.0725, ge=0)
    # Broadcast SMS wait for the end of these local hours unless urgent; empty: no quiet hours.
    sms_quiet_hours: str | None = "21:00-08:00"

    # A preview waiting for OUI or NON (a payment, an erasure, a broadcast...) is dropped after this.
    confirm_minutes: int = Field(default=10, ge=1, le=24 * 60)
    # A step of a conversation left unanswered this long (a form half filled, a draft) is dropped:
    # who comes back the next day starts afresh. Confirmations keep CONFIRM_MINUTES.
    conversation_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)

    # Shifts: the reminder the day before at this local time asks OUI/NON; those who said OUI get a
    # nudge this many minutes before the start; no answer this many minutes before the start alerts
    # the coordinator.
    shift_reminder_at: str = "18:00"
    shift_nudge_minutes: int = Field(default=120, ge=0, le=24 * 60)
    shift_answer_cutoff_minutes: int = Field(default=180, ge=0, le=24 * 60)

    # Volunteer meeting reminders: the day before and on the day, at these local times.
    meeting_reminder_day_before_at: str = "18:00"
    meeting_reminder_same_day_at: str = "10:00"

    # The staff console (/console/): a session ends after this long unused, and after this long in all.
    console_idle_minutes: int = Field(default=60, ge=1, le=24 * 60)
    console_session_hours: int = Field(default=12, ge=1, le=7 * 24)

    demo_data: bool | None = None
    # What the outbox sends on a channel that is not configured is shown on standard output and
    # recorded as sent; None: only when no channel is configured (the terminal demo).
    demo_delivery: bool | None = None
    log_level: str = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (for example Europe/Paris)") from None
        return value

    @field_validator("languages", mode="before")
    @classmethod
    def _language_list(cls, value: object) -> object:
        """``fr,en,es`` as written in .env (a list or tuple as given in code)."""
        codes = [part.strip() for part in value.split(",")] if isinstance(value, str) else value
        if not isinstance(codes, list | tuple):
            return value
        wrong = [code for code in codes if not isinstance(code, str) or not _LANGUAGE_CODE.match(code)]
        if wrong or not codes:
            raise ValueError(f"language codes separated by commas, such as fr,en,es (not {wrong or value!r})")
        if len(set(codes)) != len(codes):
            raise ValueError(f"a language is listed twice in {','.join(codes)}")
        return tuple(codes)

    @field_validator("channel_order", mode="before")
    @classmethod
    def _channel_list(cls, value: object) -> object:
        """``telegram,whatsapp,sms`` as written in .env: each known channel once."""
        names = [part.strip().lower() for part in value.split(",")] if isinstance(value, str) else value
        if not isinstance(names, list | tuple):
            return value
        wrong = [name for name in names if name not in _SENDING_CHANNELS]
        if wrong or not names or len(set(names)) != len(names):
            raise ValueError(f"channels separated by commas, each once, among {','.join(_SENDING_CHANNELS)}")
        return tuple(names)

    @field_validator("twilio_whatsapp_from")
    @classmethod
    def _whatsapp_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not re.match(r"^whatsapp:\+[1-9]\d{6,14}$", value):
            raise ValueError("TWILIO_WHATSAPP_FROM is the sender as Twilio names it: whatsapp:+33... (E.164)")
        return value

    @field_validator("whatsapp_templates", mode="before")
    @classmethod
    def _templates_json(cls, value: object) -> object:
        """JSON as written in .env; empty is no template at all."""
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f'WHATSAPP_TEMPLATES is JSON, such as {{"broadcast": "HX..."}} ({exc.msg})') from None
        return value

    @field_validator("whatsapp_templates")
    @classmethod
    def _templates(cls, value: dict[str, str | dict[str, str]]) -> dict[str, str | dict[str, str]]:
        for kind, sids in value.items():
            for sid in [sids] if isinstance(sids, str) else sids.values():
                if not re.match(r"^HX[0-9a-fA-F]{32}$", sid):
                    raise ValueError(f"the template of {kind!r} is not a Content SID (HX and 32 hexadecimal digits)")
        return value

    @field_validator("sms_quiet_hours", mode="before")
    @classmethod
    def _quiet_hours(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not _QUIET_HOURS.match(value.strip()):
            raise ValueError("SMS_QUIET_HOURS is two local times, from-to, such as 21:00-08:00 (or empty)")
        return value.strip()

    @field_validator("shift_reminder_at", "meeting_reminder_day_before_at", "meeting_reminder_same_day_at")
    @classmethod
    def _local_time(cls, value: str) -> str:
        value = value.strip()
        if not _LOCAL_TIME.match(value):
            raise ValueError("a local time as HH:MM, such as 18:00")
        return value

    @field_validator("public_url", "telegram_api_url", "twilio_api_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: object) -> object:
        """``KEY=`` (as in ``.env.example``) means "not set": the default, for every key.

        The one exception is ``SMS_QUIET_HOURS``, whose empty value is documented as "no quiet hours".
        """
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if key in _EMPTY_IS_A_VALUE or not (isinstance(value, str) and not value.strip())
        }

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.default_language not in self.languages:
            raise ValueError(
                f"DEFAULT_LANGUAGE={self.default_language} is not one of LANGUAGES={','.join(self.languages)}:"
                " add it there, or choose one of them"
            )
        if self.telegram_enabled and self.telegram_mode == "webhook":
            if not self.public_url:
                raise ValueError("TELEGRAM_MODE=webhook needs PUBLIC_URL (the https address Telegram calls)")
            secret = self.telegram_webhook_secret
            if secret is None or not _SECRET_TOKEN.match(secret.get_secret_value()):
                raise ValueError(
                    "TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET: 1 to 256 characters of A-Z a-z 0-9 _ -"
                )
        if self.sms_enabled:
            missing = [
                name
                for name, value in (("TWILIO_ACCOUNT_SID", self.twilio_account_sid), ("PUBLIC_URL", self.public_url))
                if not value
            ]
            if missing:
                raise ValueError(f"SMS is on (TWILIO_AUTH_TOKEN is set) but {', '.join(missing)} is missing")
        if self.whatsapp_enabled and (not self.twilio_auth_token or not self.twilio_account_sid or not self.public_url):
            raise ValueError(
                "WhatsApp is on (TWILIO_WHATSAPP_FROM is set) but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and PUBLIC_URL"
                " are all needed"
            )
        return self

    @property
    def whatsapp_enabled(self) -> bool:
        return self.twilio_whatsapp_from is not None

    @property
    def voice_on(self) -> bool:
        """The telephone menu: Twilio's signature is checked with the same token as SMS."""
        return self.sms_enabled and self.voice_enabled

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def sms_enabled(self) -> bool:
        return self.twilio_auth_token is not None

    @property
    def console_only(self) -> bool:
        """No account anywhere: ``voisins run`` chats in the terminal."""
        return not (self.telegram_enabled or self.sms_enabled)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def seed_demo(self) -> bool:
        """Demo data goes into the embedded default only, unless said otherwise."""
        return self.console_only if self.demo_data is None else self.demo_data

    @property
    def demo_delivers(self) -> bool:
        """Demo senders for the channels not configured: by default in the terminal demo only.

        A deployment with one provider must not record the other channel's messages as sent.
        """
        return self.console_only if self.demo_delivery is None else self.demo_delivery


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one clear message per wrong key."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = ".".join(str(part).upper() for part in error["loc"]) or "settings"
            lines.append(f"{where}: {error['msg']}")
        raise ConfigError("Wrong settings in the environment or .env:\n  " + "\n  ".join(lines)) from None
