"""Pure content rules: channel specs, length counting, copy lint, local copywriting and text analysis."""
