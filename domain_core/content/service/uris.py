"""Resource URIs of content, as the gateway serves them (namespace ``content``)."""


def asset_uri(asset_id: str) -> str:
    """The asset's metadata and versions."""
    return f"content://content/assets/{asset_id}"


def file_uri(sha256: str) -> str:
    """A stored file (image, video, logo) by content hash."""
    return f"content://content/files/{sha256}"
