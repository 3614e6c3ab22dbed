"""The words and dates inside translated sentences (issue 15 §8): weekday and month names follow the
reply's language, notices stored in the database are said in the language of the reply that shows
them, and lists of names are said name by name."""
from __future__ import annotations

import calendar
import pickle

from bot import credits, i18n
from bot.frontend import modtexts
from bot.renderer import outpaint_geometry as geometry
from bot.services.audit import AuditEntry, AuditPage
from bot.services.authz import VERBS, JobAction

MONDAY_2_JUNE_2025_14H = calendar.timegm((2025, 6, 2, 14, 0, 0))


def test_a_reset_more_than_a_day_away_names_its_weekday_and_month_in_the_replys_language():
    when = credits.until(MONDAY_2_JUNE_2025_14H, MONDAY_2_JUNE_2025_14H - 3 * 86400)
    assert when == "in 3 days (Mon 2 Jun 14:00 UTC)"  # English is unchanged
    assert i18n.say(when, "fr") == "dans 3 jours (lun. 2 juin 14:00 UTC)"
    assert i18n.say(when, "de") == "in 3 Tagen (Mo. 2 Juni 14:00 UTC)"
    assert i18n.say(pickle.loads(pickle.dumps(when)), "fr") == "dans 3 jours (lun. 2 juin 14:00 UTC)"


def test_a_stored_notice_is_said_in_the_language_of_the_reply_that_shows_it():
    notice = i18n.N_("A moderator reset your usage this {period}: you have {credits} credits.",
                     period=i18n.N_("week"), credits="4.0")
    column = i18n.stored(notice)
    assert isinstance(column, str) and column.startswith(i18n.STORED)
    back = i18n.restored(column)
    assert back == "A moderator reset your usage this week: you have 4.0 credits."
    assert i18n.say(back, "de") == ("Ein Moderator hat deinen Verbrauch im laufenden Zeitraum (Woche) zurückgesetzt: "
                                    "Du hast 4.0 Credits.")
    # Plain text (a row written before, or member text) comes back as it was, never translated.
    assert i18n.restored("A moderator gave you 2 credits.") == "A moderator gave you 2 credits."
    assert i18n.say(i18n.restored("i18n:{broken"), "fr") == "i18n:{broken"


def test_the_moderator_log_names_each_action_in_the_readers_language_and_keeps_unknown_ones():
    entries = [AuditEntry(2, 1, 7, 9, "quota grant", "bonus 0.0", "bonus 2.5", "won", 1.0e9),
               AuditEntry(1, 1, 7, None, "something new", None, None, None, 1.0e9)]
    with i18n.speaking("fr"):
        text = modtexts.audit_page(AuditPage(entries, 0, False), None)
    assert "**crédits accordés** <@9>: bonus 0.0 → bonus 2.5 — won" in text
    assert "**something new**" in text


def test_a_region_of_several_cells_is_said_name_by_name():
    edit = geometry.region_edit({1, 5, 9})
    assert geometry.describe(edit) == "region varied (top left, centre, bottom right)"
    assert i18n.say(geometry.describe(edit), "fr") == "zone variée (en haut à gauche, centre, en bas à droite)"
    assert i18n.say(geometry.describe("region:c1,c2,c3"), "de") == "Bereich variiert (obere Hälfte)"


def test_the_refusal_for_someone_elses_job_names_the_action_in_the_members_language():
    assert set(VERBS) == set(JobAction)
    assert i18n.say(VERBS[JobAction.DELETE], "de") == "löschen"
