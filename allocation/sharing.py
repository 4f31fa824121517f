"""How a pool is shared at close — pure functions, used by ``services.close`` and checked
against the benchmark's independent baseline.

Each takes the pool's quantity and the requests as ``(request_id, quantity)`` already in
policy order (``services.stores.rank_key``, then the earlier request, then the request id) and
returns ``{request_id: granted}``.

* strict priority: in order, each gets all it asked for while the pool lasts (the last one
  served may get part);
* pro-rata: when the requests exceed the pool each gets ``floor(pool x asked / total asked)``;
  the units left by rounding go one each to the largest fractional parts, ties to the earlier
  in policy order;
* seeded lottery: the requests sorted by id are shuffled by ``random.Random("<seed>:<goods
  id>")`` (reproducible from the seed printed on the report), then served as strict priority.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def strict_priority(pool: int, requests: Sequence[tuple[int, int]]) -> dict[int, int]:
    out = {}
    left = pool
    for request_id, asked in requests:
        take = min(asked, left)
        out[request_id] = take
        left -= take
    return out


def pro_rata(pool: int, requests: Sequence[tuple[int, int]]) -> dict[int, int]:
    total = sum(asked for _, asked in requests)
    if total <= pool:
        return {request_id: asked for request_id, asked in requests}
    out = {}
    remainders = []
    for position, (request_id, asked) in enumerate(requests):
        share, remainder = divmod(pool * asked, total)
        out[request_id] = share
        remainders.append((-remainder, position, request_id))
    left = pool - sum(out.values())
    remainders.sort()
    for _, _, request_id in remainders[:left]:
        out[request_id] += 1
    return out


def lottery(
    pool: int, requests: Sequence[tuple[int, int]], *, seed: int, goods_id: int
) -> dict[int, int]:
    drawn = sorted(requests)
    random.Random(f"{seed}:{goods_id}").shuffle(drawn)  # noqa: S311 (a fair draw, not a secret)
    return strict_priority(pool, drawn)
