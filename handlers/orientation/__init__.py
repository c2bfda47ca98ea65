"""Orientation: 115, day centres, emergency numbers, the site. (Being written.)"""

from bot.dispatch import Router

router = Router("orientation")
