"""The ground floor: building blocks any app may import. Nothing here imports an app."""
