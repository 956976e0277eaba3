"""User-facing errors: the command line prints these as one clear line, never a traceback."""


class Sim2RealError(Exception):
    """A mistake in what the user asked for (bad value, unknown name, missing dependency)."""


def invalid(field: str, value: object, allowed: str) -> Sim2RealError:
    """An error that names the field, the value that was given and what is allowed instead."""
    return Sim2RealError(f"invalid {field}: {value!r}; allowed: {allowed}")
