"""HTTP routes of the central, one module per resource."""
