"""Content tools: channel-ready copy, brand kits, image and video creatives, the content library, AI services."""
