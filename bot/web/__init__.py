"""The staff console: web pages on the bot's one Starlette app, under ``/console/``.

The engine's part: login without passwords and sessions (:mod:`.auth`), the audit log
(:mod:`.audit`), the view a page endpoint is given and the templates (:mod:`.view`), and the routes
with their guards (:mod:`.app`). The pages themselves are the features': each registers them on its
router (``@router.console(...)``), with templates beside it, calling its own functions.
"""
