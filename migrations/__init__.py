"""Numbered SQL migrations (`0001_name.sql`, ...), shipped as package data.

A package only so that the SQL files travel inside the wheel; `bot.database` reads them with
`importlib.resources`. No Python code lives here."""
