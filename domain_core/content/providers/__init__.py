"""Text and image model providers behind one interface: local, OpenAI, Anthropic, OpenAI-compatible."""
