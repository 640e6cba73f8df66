"""Content context: brand kits, channel-ready copy, image and video creatives, the content library, AI services."""
