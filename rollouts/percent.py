"""Shares (failure rates, their limit) as the percentages people read in halt reasons and
the admin: exact enough never to read 0% for a failure, or the same as the limit they
exceed."""


def percent(value: float, *, decimals: int = 2) -> str:
    """`value` (a share, 0 to 1) as a percentage with at most `decimals` decimals and no
    trailing zeros ("0.33%", "25%"); a share above 0 never reads "0%": it gets the decimals
    its first digit needs."""
    digits = decimals
    while value > 0 and round(value * 100, digits) == 0 and digits < 12:
        digits += 1
    text = f"{value * 100:.{digits}f}"
    return f"{text.rstrip('0').rstrip('.') if '.' in text else text}%"


def percents(rate: float, limit: float) -> tuple[str, str]:
    """A wave's failure rate and the rollout's limit as percentages that read as they
    compare: a rate above the limit never reads the same as it ("33% ... more than the 33%
    allowed" was 1 of 3 against 0.333)."""
    decimals = 2
    while rate != limit and percent(rate, decimals=decimals) == percent(limit, decimals=decimals):
        decimals += 1
        if decimals > 12:
            break
    return percent(rate, decimals=decimals), percent(limit, decimals=decimals)
