"""Whether a moderator's block of a term would change anything (`/mod safety block`): a block that
the built-in lists already decide is refused with the reason, never stored as a silent no-op."""
from __future__ import annotations

from bot.errors import AdmissionRefused
from bot.i18n import N_
from bot.safety.policy import ChannelKind, refused_category
from bot.safety.prompt_filter import PromptFilter, ServerTerms, phrase_key


def check_blockable(prompt_filter: PromptFilter, text: str, server: ServerTerms) -> None:
    """Refuse a block that would refuse nothing new in any kind of channel. Judged by its effect
    on the filter (with and without it), not by how the lists are built: the built-in lists
    keep their own decision on their terms, and their harmless phrases stay harmless."""
    key = phrase_key(text)
    if not key:
        return  # add_term refuses it
    display = " ".join(text.split())[:100]
    probe = " ".join(key)
    without = prompt_filter.check(probe, ServerTerms(server.blocked, server.allowed)).categories
    trial = ServerTerms(server.blocked + (key,), tuple(a for a in server.allowed if a != key))
    with_block = prompt_filter.check(probe, trial).categories
    kinds = tuple(ChannelKind)
    if any(refused_category(with_block, k) is not None and refused_category(without, k) is None for k in kinds):
        return  # the block takes effect somewhere
    refused_in = [k for k in kinds if refused_category(without, k) is not None]
    if len(refused_in) == len(kinds):
        why = N_("it is refused everywhere already")
    elif refused_in:
        why = N_("the built-in lists already refuse it everywhere except in age-restricted channels while NSFW is "
                 "on, and a server block does not change their decision there: to refuse it in those channels "
                 "too, turn NSFW off with /mod safety nsfw")
    else:
        why = N_("the built-in lists decide this term themselves (on its own it is harmless, as in a phrase they "
                 "allow), and a server block does not change their decision: block a more specific word or phrase")
    raise AdmissionRefused(N_("Not blocked: “{term}” would change nothing, because {why}. Nothing was added.",
                              term=display, why=why))
