"""The dashboard's routes by area; `create_app` includes each module's `router`."""

from . import api, auth, exports, forms, health, party_links, revisions

__all__ = ["api", "auth", "exports", "forms", "health", "party_links", "revisions"]
