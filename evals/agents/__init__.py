"""Agent evals: realistic requests driven through the suite's MCP tools by a model, checked on the end state."""
