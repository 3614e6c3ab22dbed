-- Several models and LoRAs (issue 15, section 4). `jobs.model` already holds the model's name; a
-- job's LoRAs are "name:weight,..." (bot/models_catalog.py), '' for none: every existing job had none.
-- A member's default model (/settings set model:) and a preset's; NULL: the bot's default model.
-- ADD COLUMN keeps every row (no CHECK changes, so no table rebuild).
ALTER TABLE jobs ADD COLUMN loras TEXT NOT NULL DEFAULT '';
ALTER TABLE member_settings ADD COLUMN model TEXT;
ALTER TABLE member_presets ADD COLUMN model TEXT;
