"""The web front end (bot/web/server.py)."""
