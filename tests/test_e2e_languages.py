"""Languages end to end through the test server: the commands sync with French and German names and
descriptions, a member's own locale picks the language of what only they see, the server's locale
that of the job's public messages, and any other locale gets English."""
from __future__ import annotations

from tests.e2e_helpers import job_id_of, reply_text, wait_result


def labels(message) -> list[str]:
    return [c.get("label") or "" for row in (message.components or []) for c in row.get("components", [])]


def _command(commands: list[dict], name: str) -> dict:
    return next(c for c in commands if c["name"] == name)


async def test_commands_sync_with_french_and_german_names_and_descriptions(world):
    await world.start_bot()
    commands = world.server.global_commands or next(iter(world.server.guild_commands.values()))
    imagine = _command(commands, "imagine")
    assert imagine["description_localizations"]["fr"] == "Créer des images à partir d'un prompt texte (et d'une image)"
    steps = next(o for o in imagine["options"] if o["name"] == "steps")
    assert steps["name_localizations"] == {"fr": "etapes", "de": "schritte"}
    aspect = next(o for o in imagine["options"] if o["name"] == "aspect")
    assert {c["value"]: c["name_localizations"]["de"] for c in aspect["choices"]}["16:9"] == "16:9 breit"
    settings = _command(commands, "settings")
    assert settings["name_localizations"] == {"fr": "reglages", "de": "einstellungen"}
    # Every other locale sees the English defaults: only the shipped languages are sent.
    assert {locale for c in commands for locale in c.get("description_localizations") or {}} == {"fr", "de"}


async def test_a_french_member_gets_french_refusals_and_buttons_and_an_unknown_locale_english(world):
    server, alice = world.server, world.alice
    await world.start_bot()

    refused = await server.invoke_slash(alice, world.channel, "imagine", {"prompt": "a lighthouse", "steps": 150},
                                        locale="fr")
    text = await reply_text(server, refused)
    assert refused.ephemeral and text.startswith("Les étapes doivent être entre 1 et "), text
    assert text.endswith(" pour ce modèle.")
    inline = await server.invoke_slash(alice, world.channel, "imagine", {"prompt": "a boat --chaos 400"}, locale="de")
    assert await reply_text(server, inline) == (  # the refusal and its nested reason, both in German
        "`--chaos 400` ist ungültig: --chaos erwartet eine ganze Zahl von 0 bis 100: wie verschieden die Bilder "
        "eines Rasters sind.")
    for locale in ("ja", "en-GB", "pt-BR"):
        other = await server.invoke_slash(alice, world.channel, "imagine", {"prompt": "a lighthouse", "steps": 150},
                                          locale=locale)
        assert (await reply_text(server, other)).startswith("Steps must be between 1 and "), locale

    # While a moderator holds the queue, alice's job waits: her /queue (ephemeral) lists it with a
    # French Cancel button; the job's own message is public, in the server's language (English).
    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod pause", locale="fr"))
    job = await server.invoke_slash(alice, world.channel, "imagine", {"prompt": "a lighthouse", "steps": 2},
                                    locale="fr")
    await job.wait_ack(5)
    public = await server.wait_for(lambda s: s.get_message(job.original_message_id) if job.original_message_id
                                   else None, 10)
    assert "Waiting in queue" in public.content and labels(public) == ["Cancel"]
    listing = await server.invoke_slash(alice, world.channel, "queue", locale="fr")
    text = await reply_text(server, listing)
    listed = server.get_message(listing.original_message_id)
    job_id = job_id_of(public)
    assert f"**#{job_id}** · position 1 · a lighthouse" in text
    assert labels(listed) == [f"Annuler n°{job_id}"]
    resumed = await server.invoke_slash(world.mod, world.channel, "mod resume", locale="de")
    assert (await reply_text(server, resumed)).startswith("▶ Warteschlange läuft wieder")

    result = await wait_result(server, job)
    assert "Re-roll" in labels(result) and "Info" in labels(result)  # public: the server's English
    info = await server.click_button(alice, result.id, f"img:info:v1:{job_id}", locale="fr")
    text = await reply_text(server, info)
    assert text.startswith(f"ℹ️ **Tâche n°{job_id}**") and "**Prompt :** a lighthouse" in text  # the prompt as written
    report = await server.click_button(alice, result.id, f"img:report:v1:{job_id}", locale="de")
    assert await reply_text(server, report) == "🚩 Danke: Die Moderatoren wurden über dieses Bild informiert."


async def test_a_german_server_gets_german_progress_results_and_buttons(world):
    server, alice = world.server, world.alice
    guild = server.add_guild("Pixel DE", locale="de")
    channel = server.add_channel(guild.id, name="kunst")
    await world.start_bot(QUOTA_CREDITS="100")

    # alice's client is in French: her own replies are French, the public job message is German,
    # its price line too.
    job = await server.invoke_slash(alice, channel, "imagine", {"prompt": "ein Leuchtturm", "steps": 2, "count": 2},
                                    locale="fr")
    await job.wait_ack(5)
    first = await server.wait_for(lambda s: s.get_message(job.original_message_id) if job.original_message_id
                                  else None, 10)
    assert "💳 kostet " in first.content and " Credits · " in first.content and " übrig" in first.content
    result = await wait_result(server, job)
    assert result.content.startswith("**ein Leuchtturm** — <@"), result.content
    assert " · 2 Schritte · CFG " in result.content and result.content.split("\n")[1].startswith("Seed ")
    assert labels(result)[:4] == ["U1", "U2", "V1", "V2"]
    assert {"Neu würfeln", "Info", "Löschen", "Melden"} <= set(labels(result))
    job_id = job_id_of(result)
    # A re-roll's first reply is public too: German, whoever clicks and whatever their locale.
    reroll = await server.click_button(alice, result.id, f"img:reroll:v1:{job_id}", locale="fr")
    rerolled = await wait_result(server, reroll)
    assert "(neu gewürfelt)" in rerolled.content.split("\n")[0]
    # Her own Info and /quota are in her locale.
    info = await server.click_button(alice, result.id, f"img:info:v1:{job_id}", locale="fr")
    assert (await reply_text(server, info)).startswith(f"ℹ️ **Tâche n°{job_id}**")
    quota = await reply_text(server, await server.invoke_slash(alice, channel, "quota", locale="fr"))
    assert quota.startswith("**Vos crédits ici**\nUtilisés : **"), quota
    info = await server.click_button(alice, result.id, f"img:info:v1:{job_id}", locale="en-US")
    assert (await reply_text(server, info)).startswith(f"ℹ️ **Job #{job_id}**")


async def test_a_french_member_reads_safety_refusals_and_notices_and_a_german_moderator_the_log(world):
    server, alice = world.server, world.alice
    await world.start_bot(QUOTA_CREDITS="10")

    # The content filter's refusal: the sentence, the category and where it is allowed, all French.
    refused = await server.invoke_slash(alice, world.channel, "imagine", {"prompt": "a nude woman on a beach",
                                                                           "steps": 2}, locale="fr")
    assert await reply_text(server, refused) == (
        "🚫 Votre prompt a été refusé : il demande du contenu sexuel ou de la nudité, ce que ce salon n'autorise "
        "pas (seuls les salons soumis à une limite d'âge le peuvent, là où les modérateurs du serveur l'ont activé). "
        "Rien n'a été mis en file ni facturé.")
    assert refused.ephemeral
    english = await server.invoke_slash(alice, world.channel, "imagine", {"prompt": "a nude woman on a beach",
                                                                           "steps": 2}, locale="en-US")
    assert (await reply_text(server, english)).startswith("🚫 Your prompt was refused: it asks for sexual content")

    # A moderator's action: the member is told in her own language at her next reply, her reason as written.
    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod quota grant",
                                                       {"member": alice, "credits": 2.5, "reason": "won the contest"},
                                                       locale="de"))
    quota = await reply_text(server, await server.invoke_slash(alice, world.channel, "quota", locale="fr"))
    assert quota.startswith("📣 Un modérateur vous a donné 2.5 crédits : won the contest\n\n**Vos crédits ici**"), quota
    assert "pour la période en cours (jour)" in quota

    # The moderator log in German: its action names too; what was recorded (the reason) as written.
    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod pause", {"reason": "Wartung"}))
    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod resume"))
    log = await server.invoke_slash(world.mod, world.channel, "mod log", locale="de")
    lines = (await reply_text(server, log)).splitlines()
    assert log.ephemeral and lines[0] == "**Moderationsprotokoll** · Seite 1, neueste zuerst", lines
    assert "**fortsetzen**" in lines[1] and "**pausieren**" in lines[2] and "— Wartung" in lines[2]
    assert "**Credits vergeben**" in lines[3] and "— won the contest" in lines[3]
