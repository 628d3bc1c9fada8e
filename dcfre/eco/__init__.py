"""One ECO appearance model: geometry, operators, optimization, sample memory, scale filter, peak search."""
