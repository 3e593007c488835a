"""List responses: `skip`/`limit` paging with an RFC 5988 `Link` header, and projection.

The body is always a bare JSON array. `include=a,b.c` keeps `_id`, `name` and the listed
fields; `exclude` drops the listed fields; both together is a 400.
"""

import json

from aiohttp import web
from multidict import MultiMapping

from sandbox import assumptions
from sandbox.exceptions import InvalidQueryParams

BOTH_PROJECTIONS_MESSAGE = (
    "Please provide either include or exclude param in the request query and not both."
)


def list_response(
    request: web.Request,
    docs: list[dict],
    *,
    page_size: int,
    no_content_when_empty: bool = False,
    render=None,
) -> web.Response:
    """Page `docs` per the query, render each (e.g. mask secrets), project, and answer."""
    query = request.query
    projection = parse_projection(query)
    skip = _query_int(query, "skip", 0, minimum=0)
    limit = min(_query_int(query, "limit", page_size, minimum=1), assumptions.MAX_PAGE_SIZE)
    if not docs and no_content_when_empty:
        return web.Response(status=204)
    page = docs[skip : skip + limit]
    if render is not None:
        page = [render(doc) for doc in page]
    if projection is not None:
        page = [projection(doc) for doc in page]
    headers = {}
    links = []
    if skip + limit < len(docs):
        links.append(f'<{_page_url(request, skip + limit, limit)}>; rel="next"')
    if skip > 0:
        links.append(f'<{_page_url(request, max(0, skip - limit), limit)}>; rel="prev"')
    if links:
        headers["Link"] = ", ".join(links)
    return web.Response(text=json.dumps(page), content_type="application/json", headers=headers)


def parse_projection(query: MultiMapping[str]):
    include = query.get("include")
    exclude = query.get("exclude")
    if include is not None and exclude is not None:
        raise InvalidQueryParams(BOTH_PROJECTIONS_MESSAGE)
    if include is None and exclude is None:
        return None
    raw = include if include is not None else exclude
    paths = [part.strip() for part in raw.split(",") if part.strip()]
    for path in paths:
        if not assumptions.PROJECTION_PARAM_PATTERN.match(path):
            name = "include" if include is not None else "exclude"
            raise InvalidQueryParams(f"Invalid characters in the {name} param: {path!r}.")
    if include is not None:
        keep = ["_id", "name", *paths]
        return lambda doc: _keep_paths(doc, keep)
    return lambda doc: _drop_paths(doc, paths)


def _keep_paths(doc: dict, paths: list[str]) -> dict:
    result: dict = {}
    for path in paths:
        parts = path.split(".")
        source = doc
        for part in parts:
            if not isinstance(source, dict) or part not in source:
                break
            source = source[part]
        else:
            target = result
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = source
    return result


def _drop_paths(doc: dict, paths: list[str]) -> dict:
    result = dict(doc)
    for path in paths:
        parts = path.split(".")
        target = result
        for part in parts[:-1]:
            child = target.get(part)
            if not isinstance(child, dict):
                break
            target[part] = child = dict(child)
            target = child
        else:
            target.pop(parts[-1], None)
    return result


def _query_int(query: MultiMapping[str], name: str, default: int, *, minimum: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidQueryParams(f"{name} must be an integer.", field=name) from None
    if value < minimum:
        raise InvalidQueryParams(f"{name} must be at least {minimum}.", field=name)
    return value


def _page_url(request: web.Request, skip: int, limit: int) -> str:
    return str(request.url.update_query(skip=str(skip), limit=str(limit)))
