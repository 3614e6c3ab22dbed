"""Discord-free services: admission, job storage, dispatching. Never import discord here."""
