"""The HTTP routes, thin: parse, call the gateway's services, shape the declared outputs."""

from fastapi import APIRouter

from query_gateway.policy import PolicedRoute


def router() -> APIRouter:
    return APIRouter(route_class=PolicedRoute)
