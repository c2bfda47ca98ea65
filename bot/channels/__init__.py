"""Channel adapters: each turns its own traffic into :class:`bot.messages.Inbound` and renders replies."""
