"""Pure analytics models: attribution, experiment statistics, insight arithmetic and charts."""
