"""The base of viva's full screens: ``self.app`` typed as :class:`tui.app.VivaApp`.

Textual types ``Screen.app`` as a plain ``App``, so the store, the settings and the loaded
components the app holds would each need a ``type: ignore``.  Every full screen runs
inside a ``VivaApp``; this property says so once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from tui.app import VivaApp

ResultT = TypeVar("ResultT")


class VivaScreen(Screen[ResultT]):
    # Textual's own typed form, ``app = textual.getters.app(VivaApp)``, needs VivaApp at
    # class creation (tui.app imports the screens: a cycle); mypy then wants this ignore
    # because Textual declares ``app`` as a descriptor, not a property.
    @property
    def app(self) -> VivaApp:  # type: ignore[override]
        return cast("VivaApp", super().app)
