"""The query gateway: approved computations only, for consenting subjects, signed answers.

`create_app(settings)` builds the FastAPI application over one data directory; see
docs/api.md for the routes and the curl walk-through.
"""

from query_gateway.app import Components, create_app

__all__ = ["Components", "create_app"]
