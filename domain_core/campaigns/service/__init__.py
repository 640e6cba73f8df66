"""Use cases of the campaigns context: keyword functions taking the unit of work (and orchestrators for the ones
that call platforms between transactions)."""
