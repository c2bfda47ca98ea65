"""Features of the bot, one package each. Registered in :func:`handlers.registry.routers`."""
