"""Content safety, Discord-free: the prompt filter, the output image checkers and the channel policy.

`normalize` turns a prompt into word candidates whatever its spelling (homoglyphs, leet, spacing,
zero-width and full-width characters); `terms` holds the categorized word lists and the allowlist;
`prompt_filter` matches one against the other; `image_checker` scores rendered images; `policy`
says what a channel may receive. bot/services/safety.py joins them to the database and the jobs.
"""
