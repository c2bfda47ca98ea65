"""The framework's own limit: a bare Starlette ``POST /twilio/sms`` that returns a fixed TwiML answer.

    python bench/_bare_sms.py PORT

Served by uvicorn with the settings ``voisins run`` uses (bot/app.py): the same loop and HTTP
implementation, no access log, no lifespan. It reads nothing and checks nothing: every figure of
the bot below this one is the bot's own work (signature, database, dispatch, rendering).
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# About the size of a real answer (the 115 one), so both servers send as many bytes.
TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Pour dormir ce soir, appelez le 115 '
    "(gratuit, 24h/24, meme sans credit). Si ca ne repond pas, insistez, rappelez plus tard. "
    "Pour vous doucher, manger ou voir une assistante sociale, ecrivez DOUCHE, REPAS ou SOCIAL."
    "</Message></Response>"
)


async def sms(request: Request) -> Response:
    return Response(TWIML, media_type="application/xml")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/twilio/sms", sms, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])])


def main() -> None:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False, lifespan="off"
    )
    asyncio.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()
