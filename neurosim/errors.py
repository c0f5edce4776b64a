"""The error neurosim raises for bad user input."""


class ConfigError(ValueError):
    """A model, population, projection, stimulus or run argument is invalid.

    The message always names the object, the parameter and the bad value.
    """


def bad(obj: str, param: str, value, why: str) -> ConfigError:
    """Build the standard message: ``<obj>: parameter '<param>' = <value> <why>``."""
    return ConfigError(f"{obj}: parameter '{param}' = {value!r} {why}")
