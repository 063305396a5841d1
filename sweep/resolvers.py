"""Grids written in one value, `'sparsity=${linspace:0,0.99,12}'` (a run) or in YAML: the resolvers below, and
`exact`, the 12 significant digits every grid value is kept to (so that stored values equal these)."""
from __future__ import annotations


def exact(x: float) -> float:
    """A grid value as the user meant it: 12 significant digits, so that range(0.1,1.01,0.1)'s 0.30000000000000004
    is stored, logged and compared as 0.3. Training sees the same value (float32; the streams hash 10 digits)."""
    return float(f"{float(x):.12g}")


def geomspace(start: float, stop: float, num: int) -> list[float]:
    """`${geomspace:1,0.01,40}`: num log-spaced values from start to stop (both included)."""
    if num < 2:
        return [exact(start)]
    ratio = (stop / start) ** (1 / (num - 1))
    return [exact(start * ratio**i) for i in range(num - 1)] + [exact(stop)]


def linspace(start: float, stop: float, num: int) -> list[float]:
    """`${linspace:0,0.99,12}`: num evenly spaced values from start to stop (both included)."""
    if num < 2:
        return [exact(start)]
    return [exact(start + (stop - start) * i / (num - 1)) for i in range(num)]


def arange(start: float, stop: float, step: float = 1) -> list[float]:
    """`${range:0.1,1.01,0.1}`: start, start + step, ... below stop (as Python's range, floats allowed)."""
    count = max(0, int(-(-(stop - start) // step)))
    return [exact(start + i * step) for i in range(count)]


RESOLVERS = {"linspace": linspace, "geomspace": geomspace, "range": arange}
RESOLVER_HELP = "${linspace:START,STOP,NUM}, ${geomspace:START,STOP,NUM}, ${range:START,STOP,STEP}"
