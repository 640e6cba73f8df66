"""The one error the renderers raise for bad input or a failed encode."""

__all__ = ["RenderError"]


class RenderError(ValueError):
    """A creative could not be rendered; the message names the offending input (``logo``, ``width``, ...)."""
