from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from core.identity.access import ANY_USER, MEMBER_OR_ADMIN, CurrentPrincipal
from core.pagination import Cursor, Limit
from core.plugin import Context
from minori_hello import schemas, services


class GreetingController(Controller):
    path = "/greetings"

    @get(access=ANY_USER, summary="Greetings of the caller's organizations")
    async def list(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
    ) -> schemas.GreetingList:
        return await services.list_greetings(principal, cursor, limit)

    @post(access=MEMBER_OR_ADMIN, summary="Post a greeting")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.GreetingCreate]
    ) -> schemas.Greeting:
        return await services.create_greeting(ctx, principal, data)

    @get("/{greeting_id:str}", access=ANY_USER, summary="One greeting")
    async def get(
        self, principal: CurrentPrincipal, greeting_id: FromPath[str]
    ) -> schemas.Greeting:
        return await services.get_greeting(principal, greeting_id)

    @delete("/{greeting_id:str}", access=MEMBER_OR_ADMIN, summary="Delete a greeting")
    async def delete(
        self, ctx: Context, principal: CurrentPrincipal, greeting_id: FromPath[str]
    ) -> None:
        await services.delete_greeting(ctx, principal, greeting_id)


@get("/tallies", access=ANY_USER, summary="Greetings per day, as counted by the tally job")
async def tallies(principal: CurrentPrincipal) -> list[schemas.Tally]:
    return await services.list_tallies(principal)
