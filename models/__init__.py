"""neurosim's model library, installed as ``neurosim.models``.

This folder lives beside the engine (as NEST's ``models/`` does) and is installed under the
name ``neurosim.models``. Importing it as a top-level ``models`` package would load a second,
unregistered copy of every model, so that is refused.
"""

if __name__ != "neurosim.models":  # pragma: no cover - guard against `import models`
    raise ImportError(
        "import the model library as 'neurosim.models', not as top-level 'models' "
        f"(imported as {__name__!r})"
    )
