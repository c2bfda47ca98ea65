"""What staff do with shifts in chat: create, change, cancel, assign, roster, attendance."""

from __future__ import annotations
