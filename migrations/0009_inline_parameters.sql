-- Midjourney-style parameters in the prompt (issue 15, section 5): what they set beyond the
-- columns that already exist (aspect, size, seed, steps, guidance, negative, model), and the
-- parameters as written back canonically, so Info can show them. Older rows: no chaos, no tiling.
ALTER TABLE jobs ADD COLUMN chaos INTEGER CHECK (chaos IS NULL OR chaos BETWEEN 0 AND 100);
ALTER TABLE jobs ADD COLUMN tile INTEGER NOT NULL DEFAULT 0 CHECK (tile IN (0, 1));
ALTER TABLE jobs ADD COLUMN inline_params TEXT NOT NULL DEFAULT '';
