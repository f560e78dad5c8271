"""Time-series recipe: UCR/.ts loading, the length rule, series gates and the prepare step for series."""
