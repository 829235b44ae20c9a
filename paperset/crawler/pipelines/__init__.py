"""Item pipelines, one step each; their order is configuration (ITEM_PIPELINES)."""
