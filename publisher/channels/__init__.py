"""Channels: where content goes. One TOML file per channel account under `channels/`."""
