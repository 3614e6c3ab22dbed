"""Retention end to end: IMAGE_RETENTION_DAYS removes old image files at start-up's pass (rows stay,
marked), /show, V and U say why, and /mod storage shows what is on disk (moderators only)."""
from __future__ import annotations

import time

from tests.e2e_helpers import db_execute, db_rows, job_id_of, job_rows, reply_text, wait_result


def _age_images(data_dir, job_id: int, days: float) -> None:
    db_execute(data_dir, "UPDATE images SET created_at = ? WHERE job_id = ?", (time.time() - days * 86400, job_id))


def _images(data_dir) -> list[dict]:
    return db_rows(data_dir, "SELECT * FROM images ORDER BY id")


async def test_old_images_are_pruned_and_show_vary_upscale_say_so_and_storage_is_reported(world):
    server = world.server
    bot = await world.start_bot(IMAGE_RETENTION_DAYS="2")
    old = await wait_result(server, await server.invoke_slash(world.alice, world.channel, "imagine",
                                                             {"prompt": "an old photo", "steps": 4}))
    new = await wait_result(server, await server.invoke_slash(world.alice, world.channel, "imagine",
                                                             {"prompt": "a new photo", "steps": 4}))
    old_id, new_id = job_id_of(old), job_id_of(new)
    await bot.stop()
    _age_images(world.data_dir, old_id, 3)

    await world.start_bot(IMAGE_RETENTION_DAYS="2")
    pruned = await server.wait_for(lambda s: [i for i in _images(world.data_dir) if i["pruned_at"]], 30)
    assert [i["job_id"] for i in pruned] == [old_id]
    assert not (world.data_dir / pruned[0]["path"]).exists()
    kept = [i for i in _images(world.data_dir) if i["job_id"] == new_id]
    assert (world.data_dir / kept[0]["path"]).is_file()
    assert [j["status"] for j in job_rows(world.data_dir)] == ["delivered", "delivered"]  # rows stay

    show = await server.invoke_slash(world.alice, world.channel, "show", {"job": old_id})
    assert "were removed (images are kept for 2 days)" in await reply_text(server, show)
    vary = await server.click_button(world.bob, old.id, f"img:vary:v1:{old_id}:0:strong")
    assert "removed by the retention policy (images are kept for 2 days), so it cannot be varied" in \
        await reply_text(server, vary)
    up = await server.click_button(world.bob, old.id, f"img:up:v1:{old_id}:0")
    assert "cannot be upscaled" in await reply_text(server, up)
    assert len(job_rows(world.data_dir)) == 2  # nothing queued

    storage = await server.invoke_slash(world.mod, world.channel, "mod storage")
    text = await reply_text(server, storage)
    assert storage.ephemeral and "Images:" in text and "in 1 file · 1 removed by retention" in text
    assert "Database:" in text and "kept 2 days" in text
    # /mod's default permission can be overridden by a server admin: the bot checks at run time too.
    refused = await server.invoke_slash(world.alice, world.channel, "mod storage", admin_override=True)
    assert "Only moderators" in await reply_text(server, refused)
