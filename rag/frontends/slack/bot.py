"""The Slack front end: a Bolt app that answers @mentions, DMs and `/news` with cited answers from the coverage.

`create_app` builds the app from anything with an `ask` method (see `AskAssistant`), so a team can mount it
in its own server; `run` / `run_from_env` run it in Socket Mode (SLACK_APP_TOKEN) or over HTTP
(SLACK_SIGNING_SECRET) at /slack/events. Answers are written in the background, so Slack always gets its
acknowledgement within 3 seconds. Tokens are only ever passed in by the caller and are redacted from logs
and replies. This module is not imported by `rag/__init__`.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltError
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from rag.core.errors import NewsragError, SettingsError
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.frontends.slack.format import (
    SlackMessage,
    bot_message_content,
    clean_slack_text,
    format_answer,
    format_notice,
    is_notice,
)
from rag.frontends.slack.guard import RateLimiter, TTLSet, install_redaction, redact
from rag.frontends.slack.http import make_http_server

__all__ = [
    "AskAssistant",
    "SlackTokens",
    "create_app",
    "make_http_server",
    "run",
    "run_from_env",
    "tokens_from_env",
    "HELP",
    "WORKING",
    "RATE_LIMITED",
    "FAILED",
    "BUSY",
]

log = logging.getLogger("rag.frontends.slack.bot")

HELP = "Ask me about the news, e.g. “What did Kardashian say about Balenciaga?” I answer from the ingested coverage, with sources."
WORKING = "Looking through the coverage…"
RATE_LIMITED = "You're asking faster than I can read — try again in a minute."
FAILED = "Sorry — something went wrong while answering. The details are in the bot's log."
REACTION = "hourglass_flowing_sand"
HISTORY_TURNS = 12  # the most recent thread messages passed as history
ERROR_CHARS = 500
MAX_CONCURRENT_ASKS = 4  # the Assistant is thread-safe; this only bounds the load one busy channel can cause
MAX_WAITING_ASKS = 100  # questions queued behind those; more get a "busy" reply
BUSY = "I'm answering a lot of questions right now — please ask again in a minute."
_ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}


class AskAssistant(Protocol):
    """What the bot needs from newsrag's Assistant: one `ask` call per question."""

    def ask(
        self,
        question: str,
        *,
        history: list[dict] | None = None,
        sources: Any = None,
        since: Any = None,
        until: Any = None,
    ) -> Answer: ...


@dataclass(frozen=True)
class SlackTokens:
    """The Slack credentials, read at the edge; repr never shows them."""

    bot_token: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        """"socket" when an app-level token is present, else "http"."""
        return "socket" if self.app_token else "http"


def tokens_from_env(env: Mapping[str, str] | None = None) -> SlackTokens:
    """SLACK_BOT_TOKEN plus SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode); errors name the variable."""
    env = os.environ if env is None else env
    bot = (env.get("SLACK_BOT_TOKEN") or "").strip()
    app_token = (env.get("SLACK_APP_TOKEN") or "").strip() or None
    secret = (env.get("SLACK_SIGNING_SECRET") or "").strip() or None
    if not bot:
        raise SettingsError(
            "SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-…) from your Slack app's "
            "“OAuth & Permissions” page into SLACK_BOT_TOKEN (see docs/SLACK.md)."
        )
    if not bot.startswith("xoxb-"):
        raise SettingsError("SLACK_BOT_TOKEN does not look like a bot token: it should start with xoxb-.")
    if app_token and not app_token.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN does not look like an app-level token: it should start with xapp-.")
    if not app_token and not secret:
        raise SettingsError(
            "Set SLACK_APP_TOKEN (an xapp-… app-level token with connections:write) to run in Socket Mode, "
            "or SLACK_SIGNING_SECRET (Basic Information → Signing Secret) to receive events over HTTP."
        )
    return SlackTokens(bot_token=bot, app_token=app_token, signing_secret=secret)


def create_app(
    assistant: AskAssistant,
    *,
    bot_token: str,
    signing_secret: str | None = None,
    api_url: str = "https://slack.com/api/",
    rate_limit: int = 10,
    process_before_response: bool = False,
    command: str = "/news",
) -> App:
    """A Bolt app answering app_mention, DM `message` events and the `/news` slash command with `assistant`.

    `signing_secret=None` turns request signature checks off, which is only right for Socket Mode (the
    websocket is authenticated by the app token); HTTP mode must pass it. `rate_limit` is questions per user
    per minute (0: unlimited). Calls `auth.test` once to learn the bot's own ids; a rejected token or an
    unreachable API raises SettingsError.
    """
    install_redaction(bot_token, signing_secret, loggers=("rag", "slack_bolt", "slack_sdk", log))
    base_url = api_url if api_url.endswith("/") else api_url + "/"
    client = WebClient(token=bot_token, base_url=base_url, logger=log)
    if not any(isinstance(f, _ClientGiven) for f in log.filters):
        log.addFilter(_ClientGiven())
    try:
        app = App(
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=signing_secret is not None,
            process_before_response=process_before_response,
            logger=log,
            name="newsrag",
        )
    except BoltError as err:
        raise SettingsError(f"Slack did not accept SLACK_BOT_TOKEN: {redact(str(err))[:300]}") from None
    except OSError as err:  # URLError, refused connections, DNS failures
        raise SettingsError(
            f"Could not reach the Slack API at {base_url} ({redact(str(err))[:200]}). "
            "Check the network, or NEWSRAG_SLACK_API_URL if you go through a proxy."
        ) from None
    _NewsBot(assistant, rate_limit=rate_limit).register(app, command=command)
    return app


class _ClientGiven(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when handed a ready client (ours, which carries
    NEWSRAG_SLACK_API_URL), then warns that the token will be unused: true, expected, and noise on every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class _NewsBot:
    """The listeners and their state: dedup sets, the rate limiter, and a cap on concurrent asks."""

    def __init__(self, assistant: AskAssistant, *, rate_limit: int) -> None:
        self.assistant = assistant
        self.limiter = RateLimiter(rate_limit, 60.0)
        self.seen_events = TTLSet(ttl=3600.0, maxsize=10_000)  # event_id: Slack retries for up to ~1 hour
        self.answered = TTLSet(ttl=3600.0, maxsize=10_000)  # (channel, ts): one answer per message
        # Answers run in this pool, never in Bolt's listener threads: those also run every ack(), and a few
        # slow answers (a model still loading) holding them made later acks miss Slack's 3 s.
        self._pool = ThreadPoolExecutor(MAX_CONCURRENT_ASKS, thread_name_prefix="newsrag-slack-answer")
        self._queued = threading.BoundedSemaphore(MAX_CONCURRENT_ASKS + MAX_WAITING_ASKS)

    def register(self, app: App, *, command: str) -> None:
        app.use(self.dedupe)
        app.event("app_mention")(ack=self.ack_event, lazy=[self.answer_event])
        app.event("message")(ack=self.ack_event, lazy=[self.answer_event])
        app.command(command)(ack=self.ack_command, lazy=[self.answer_command])

    # -- acknowledgement (fast, in the request) -------------------------------------------------------

    def dedupe(self, body: dict, request: BoltRequest, next: Any) -> Any:
        """Global middleware: an event_id seen before (Slack's retries) is acknowledged and dropped."""
        event_id = body.get("event_id")
        if event_id and not self.seen_events.add(event_id):
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("Ignoring repeated delivery of %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        return next()

    def ack_event(self, ack: Any) -> None:
        ack()

    def ack_command(self, ack: Any, command: dict) -> None:
        ack(text=WORKING if (command.get("text") or "").strip() else HELP)

    # -- answering (in the background) ----------------------------------------------------------------

    def _later(self, work: Any, *args: Any, busy: Any = None) -> None:
        """Run `work(*args)` in the answer pool (returning at once); `busy()` when the queue is full."""
        if not self._queued.acquire(blocking=False):
            if busy is not None:
                busy()
            return

        def run() -> None:
            try:
                work(*args)
            except Exception:  # noqa: BLE001 - one failed answer must not take the pool down
                log.exception("Answering a Slack question failed")
            finally:
                self._queued.release()

        self._pool.submit(run)

    def answer_event(self, event: dict, client: WebClient, context: Any) -> None:
        """Lazy listener: hand the event to the answer pool (Bolt's thread returns at once)."""
        channel, thread_ts = event.get("channel"), event.get("thread_ts") or event.get("ts")
        self._later(self._answer_event, event, client, context,
                    busy=lambda: channel and thread_ts and self._post(client, channel, thread_ts,
                                                                      format_notice(BUSY, "hourglass")))

    def answer_command(self, command: dict, respond: Any) -> None:
        """Lazy listener: hand the command to the answer pool (Bolt's thread returns at once)."""
        self._later(self._answer_command, command, respond,
                    busy=lambda: self._respond(respond, format_notice(BUSY, "hourglass")))

    def _answer_event(self, event: dict, client: WebClient, context: Any) -> None:
        """Answer an @mention or a DM in the message's thread, with the thread so far as history."""
        if event.get("type") == "message" and (
            event.get("channel_type") != "im" or event.get("subtype") not in _ANSWERED_SUBTYPES
        ):
            return
        if _from_a_bot(event, context):
            return
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or not self.answered.add((channel, ts)):
            return
        thread_ts = event.get("thread_ts") or ts
        question = clean_slack_text(event.get("text") or "")
        if not question:
            self._post(client, channel, thread_ts, format_notice(HELP, "wave"))
            return
        if not self.limiter.allow(event.get("user") or event.get("username") or "?"):
            self._post(client, channel, thread_ts, format_notice(RATE_LIMITED, "hourglass"))
            return
        self._react(client, "reactions_add", channel, ts)
        try:
            history = self._history(client, channel, event, context) if event.get("thread_ts") else []
            self._post(client, channel, thread_ts, self._answer(question, history))
        finally:
            self._react(client, "reactions_remove", channel, ts)

    def _answer_command(self, command: dict, respond: Any) -> None:
        """Answer `/news question` privately (ephemeral, via the command's response_url)."""
        question = clean_slack_text(command.get("text") or "")
        if not question:
            return
        if self.limiter.allow(command.get("user_id") or "?"):
            message = self._answer(question, [])
        else:
            message = format_notice(RATE_LIMITED, "hourglass")
        self._respond(respond, message)

    def _respond(self, respond: Any, message: SlackMessage) -> None:
        try:
            respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral")
        except Exception as err:  # the response_url expired (30 min) or Slack is unreachable
            log.warning("Could not send the /news answer: %s", redact(str(err)))

    def _answer(self, question: str, history: list[dict]) -> SlackMessage:
        try:
            answer = self.assistant.ask(question, history=history or None)
            return format_answer(answer)
        except NewsragError as err:
            log.info("Question not answered: %s", redact(str(err)))
            return format_notice(redact(str(err))[:ERROR_CHARS], "warning")
        except Exception:
            log.exception("The assistant failed on a Slack question")
            return format_notice(FAILED, "warning")

    def _history(self, client: WebClient, channel: str, event: dict, context: Any) -> list[dict]:
        """Earlier messages of the thread as turns: the bot's answers as assistant, people as user."""
        try:
            replies = client.conversations_replies(channel=channel, ts=event["thread_ts"], limit=100)
        except (SlackApiError, OSError) as err:
            log.warning("Could not read the thread for history: %s", _api_error(err))
            return []
        current = _ts_key(event.get("ts"))
        turns: list[dict] = []
        for message in replies.get("messages") or []:
            if _ts_key(message.get("ts")) >= current:
                continue
            text = message.get("text") or ""
            if _is_own(message, context):
                if is_notice(text):
                    continue
                turns.append({"role": "assistant", "content": bot_message_content(text)})
            elif not message.get("bot_id") and message.get("subtype") in _ANSWERED_SUBTYPES:
                turns.append({"role": "user", "content": clean_slack_text(text)})
        return [t for t in turns if t["content"]][-HISTORY_TURNS:]

    def _post(self, client: WebClient, channel: str, thread_ts: str, message: SlackMessage) -> None:
        kwargs = dict(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False)
        try:
            client.chat_postMessage(text=message["text"], blocks=message["blocks"], **kwargs)
        except SlackApiError as err:
            log.warning("chat.postMessage failed (%s); retrying as plain text", _api_error(err))
            try:
                client.chat_postMessage(text=message["text"], **kwargs)
            except (SlackApiError, OSError) as again:
                log.error("Could not post the answer: %s", _api_error(again))
        except OSError as err:
            log.error("Could not post the answer: %s", _api_error(err))

    def _react(self, client: WebClient, method: str, channel: str, ts: str) -> None:
        try:
            getattr(client, method)(channel=channel, timestamp=ts, name=REACTION)
        except (SlackApiError, OSError) as err:  # missing reactions:write, already_reacted, ...: cosmetic
            log.debug("%s failed: %s", method, _api_error(err))


def _from_a_bot(event: dict, context: Any) -> bool:
    return bool(
        event.get("bot_id")
        or event.get("bot_profile")
        or event.get("subtype") == "bot_message"
        or (event.get("user") and event.get("user") == getattr(context, "bot_user_id", None))
    )


def _is_own(message: dict, context: Any) -> bool:
    user, bot_id = message.get("user"), message.get("bot_id")
    return bool(
        (user and user == getattr(context, "bot_user_id", None)) or (bot_id and bot_id == getattr(context, "bot_id", None))
    )


def _ts_key(ts: Any) -> tuple[int, int]:
    """Slack timestamps ("1700000000.000100") as exact integers, for ordering."""
    seconds, _, micros = str(ts or "0").partition(".")
    try:
        return int(seconds), int((micros or "0").ljust(6, "0")[:6])
    except ValueError:
        return (0, 0)


def _api_error(err: Exception) -> str:
    if isinstance(err, SlackApiError):
        return str(err.response.get("error") or err.response.status_code)
    return redact(str(err))[:200]


def run(
    settings: Settings,
    assistant: AskAssistant,
    *,
    tokens: SlackTokens,
    port: int | None = None,
    host: str = "127.0.0.1",
    path: str = "/slack/events",
) -> None:
    """Run the bot until interrupted: Socket Mode with an app token, else HTTP on host:port at `path`."""
    if tokens.mode == "http" and not tokens.signing_secret:
        raise SettingsError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode).")
    install_redaction(tokens.bot_token, tokens.app_token, tokens.signing_secret, root_handlers=True)
    app = create_app(
        assistant,
        bot_token=tokens.bot_token,
        signing_secret=tokens.signing_secret,
        api_url=settings.slack_api_url,
        rate_limit=settings.slack_rate_limit,
    )
    warm_up = getattr(assistant, "warm_up", None)
    if callable(warm_up):  # load the model in the background; questions meanwhile are acked, then wait for it
        warm_up()
    if tokens.mode == "socket":
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        print("newsrag Slack bot connecting to Slack in Socket Mode", flush=True)
        SocketModeHandler(app, tokens.app_token, logger=log, web_client=app.client).start()
        return
    port = settings.slack_port if port is None else port
    try:
        server = make_http_server(app, host=host, port=port, path=path)
    except OSError as err:
        raise SettingsError(
            f"Cannot listen on {host}:{port} ({err.strerror or err}). Pass --port or set NEWSRAG_SLACK_PORT."
        ) from None
    print(f"newsrag Slack bot listening on http://{host}:{server.server_address[1]}{path}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def run_from_env(
    assistant: AskAssistant,
    settings: Settings,
    env: Mapping[str, str] | None = None,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
) -> None:
    """`run` with tokens from SLACK_BOT_TOKEN, SLACK_APP_TOKEN and SLACK_SIGNING_SECRET in `env` (os.environ)."""
    run(settings, assistant, tokens=tokens_from_env(os.environ if env is None else env), port=port, host=host)
