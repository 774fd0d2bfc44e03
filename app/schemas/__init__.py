"""pydantic v2 API models: XCreate / XUpdate / XRead per resource."""
