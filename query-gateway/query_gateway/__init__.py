"""The query gateway: approved computations only, for consenting subjects, signed answers.

`create_app(settings)` builds the FastAPI application over one data directory; see
docs/api.md for the routes and the curl walk-through.
"""

from query_gateway.app import create_app
from query_gateway.settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app"]
