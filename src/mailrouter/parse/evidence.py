"""What the reader saw, for `mailrouter route` to explain (DESIGN §3, issue 9 point 4).

A note says, for one required item, a value the reader found or turned down, where it stood,
and the evidence that decided. Notes may quote a defendant's name or date of birth, so they
go to the person running `mailrouter route` on their own file and nowhere else: never to the
decision JSON, the logs, the journal or a reply to the sender.
"""

from __future__ import annotations

from typing import NamedTuple


class Note(NamedTuple):
    item: str  # one of model.REQUIRED_ITEMS
    accepted: bool
    value: str  # as read; may hold personal data
    where: str  # "subject", "body line 4", "body line 4, under 'DOB'"
    why: str  # the evidence, or why it was turned down


class Notes:
    """The notes of one reading, kept only when someone asked to see them (`mailrouter
    route`): the gateway itself never holds them, so they cost it nothing."""

    __slots__ = ("enabled", "items")

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.items: list[Note] = []

    def add(self, item: str, accepted: bool, value: str, where: str, why: str) -> None:
        if self.enabled:
            self.items.append(Note(item, accepted, value, where, why))
