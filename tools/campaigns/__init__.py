"""MCP tools of the campaigns context (thin functions over the campaigns facade)."""
