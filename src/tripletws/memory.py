"""The memory a solve's tables need, against what the machine has available.

Every label model's parameters are ``(m, k + 1, k)`` tables of float64 (``P(outcome | y)`` per
LF), and a solve holds at least two of them (the fit and a working copy; the default annotator
model, with its candidate families, about ten).  At the largest k the library accepts (32 768) a
single table of 6 LFs takes 51 GB: such a fit is refused up front with the sizes named, instead of
ending in an out-of-memory error (or the operating system's kill) deep in the solve.
"""

from __future__ import annotations

from pathlib import Path

#: Tables a solve holds at the least (the check refuses only fits that cannot run).
MIN_TABLES = 2
#: Below this many bytes of tables the memory is not read (25 us a read; no machine lacks 64 MiB).
CHECK_FROM = 1 << 26


def available_bytes() -> int | None:
    """Memory available to a new allocation (Linux's ``MemAvailable``), or None where not known."""
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1]) * 1024  # kB
    return None


def check_tables_fit(n_lfs: int, cardinality: int, model: str) -> None:
    """Refuse a solve whose ``(m, k + 1, k)`` tables cannot fit in the available memory.

    Parameters
    ----------
    n_lfs, cardinality : int
        m and k.
    model : str
        The model's name (for the message).

    Raises
    ------
    ValueError
        Naming k, m, the memory :data:`MIN_TABLES` tables need and the memory available.
    """
    table = 8 * n_lfs * (cardinality + 1) * cardinality
    need = MIN_TABLES * table
    if need <= CHECK_FROM:
        return
    free = available_bytes()
    if free is None or need <= free:
        return
    gib = 1024**3
    raise ValueError(
        f"k = {cardinality} classes with m = {n_lfs} LFs: the {model} model's (m, k + 1, k) tables take "
        f"{table / gib:.1f} GiB each and a solve holds at least {MIN_TABLES}, {need / gib:.1f} GiB, more "
        f"than the {free / gib:.1f} GiB available; give only the classes the LFs vote (cardinality, "
        "classes renumbered) or use a machine with more memory"
    )
