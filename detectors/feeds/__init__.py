"""Feeds: sources of timestamped items (video frames, audio chunks) with reconnect and health reporting."""
