"""The Discord side of the bot: client wiring, buttons, message texts and delivery.
Everything that imports discord lives here or in cogs/; services never do."""
