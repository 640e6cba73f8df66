"""MCP tools of analytics (thin functions over the analytics facade), served by the campaigns server."""
