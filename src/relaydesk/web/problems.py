"""What went wrong, in the reader's language: the services' keyed problems as page sentences.

A service raises its English message (the API's `detail`) and, for the refusals agents meet
every day, a key with its values (`UserError.saying`). Here each key has its sentence for
the pages; a problem without one still shows its English message rather than nothing.
"""

from __future__ import annotations

from relaydesk.core.errors import UserError
from relaydesk.web.i18n import _
from relaydesk.web.labels import N_, label, network_name

SENTENCES: dict[str, str] = {
    "transition": N_("This conversation is %(status)s now, so that change does not apply: see what changed."),
    "replied_meanwhile": N_("@%(handle)s replied after you opened this conversation: read it first."),
    "typing_meanwhile": N_("@%(handle)s is writing a reply right now."),
    "already_in_department": N_("The conversation is already in %(department)s."),
    "transfer_loop": N_(
        "This conversation keeps bouncing between departments: a manager should decide who answers it."
    ),
    "guidelines": N_("The reply breaks the brand guidelines: %(findings)s"),
    "faq_csv_empty_file": N_(
        "The file holds no entries: its first line names the columns, one entry a line after it."
    ),
    "faq_csv_no_column": N_("The first line of the file has no %(column)s column."),
    "faq_csv_empty": N_("Line %(line)s: %(column)s is empty."),
    "faq_csv_date": N_("Line %(line)s: write %(column)s as year-month-day."),
    "faq_csv_duplicate": N_("Line %(line)s: the key is on an earlier line too."),
    "faq_csv_too_many": N_("At most 5,000 entries in one file (line %(line)s)."),
    "faq_csv_unreadable": N_("The file cannot be read as CSV (line %(line)s): save it as CSV, UTF-8."),
    "faq_csv_invalid": N_(
        "Line %(line)s, column %(column)s: the value is not valid (a key is lowercase letters, digits, - _ .; a place is a brand's or region's key)."
    ),
    "faq_csv_forbidden": N_("Line %(line)s: only PR, admins and owners change an approved or retired entry."),
    "auto_answers": N_("The automatic answers were not saved: check the numbers (from 0.2 to 1)."),
    "auto_answers_away_text": N_(
        "Write the away message in at least one language (at most 1,000 characters each)."
    ),
    "guideline_kind": N_("Choose a kind of guideline from the list."),
    "guideline_phrases": N_("Write at least one phrase, one per line (at most %(most)s)."),
    "guideline_max_chars": N_("The longest reply is a whole number of characters from 1 to 100,000."),
    "guideline_greetings": N_("At most %(most)s greetings, each a short line."),
    "guideline_tones": N_("Choose the tones from the list (%(tones)s)."),
    "guideline_domains": N_("Write the allowed sites, one domain per line (shop.example)."),
    "guideline_limits": N_(
        "Write one network a line with its limit in characters, e.g. x: 200 (networks: %(networks)s)."
    ),
    "guideline_pattern_missing": N_("Write the pattern to look for."),
    "guideline_pattern_long": N_("The pattern is too long: at most 500 characters."),
    "guideline_pattern_invalid": N_("That is not a valid regular expression."),
    "guideline_pattern_empty_match": N_("The pattern matches an empty reply, so it would flag every reply."),
    "guideline_pattern_slow": N_(
        "The pattern is too slow on long replies (nested repetition such as (a+)+): simplify it."
    ),
    "alert_state": N_("The alert is %(status)s now: see its timeline, it has moved on."),
    "whatsapp_window": N_(
        "The customer last wrote more than 24 hours ago: WhatsApp now takes only an approved template."
    ),
    "template_values": N_("This template takes %(wanted)s values, not %(given)s."),
    "template_value_empty": N_("The value for %(slot)s is empty."),
    "template_value_long": N_("The value for %(slot)s must be one line of at most %(most)s characters."),
    "template_no_files": N_("A template message carries no files: send them once the customer writes again."),
    "too_many_files": N_("Too many files for one reply here (at most %(most)s)."),
    "file_empty": N_("The file %(name)s is empty."),
    "file_too_big": N_("The file %(name)s is larger than %(mb)s MB."),
    "file_type": N_("The file %(name)s is not a type a reply may carry (%(types)s)."),
    "network_no_files": N_(
        "Replies on %(network)s cannot carry files from RelayDesk yet: send a link instead."
    ),
    "file_alone": N_("On %(network)s a file goes alone: send the file now and the text as its own reply."),
    "file_text_long": N_("With a file, a reply on %(network)s has at most %(most)s characters."),
    "assignee_viewer": N_("@%(handle)s can only read conversations, not answer them."),
    "assignee_other_department": N_(
        "@%(handle)s is not in this conversation's department: hand it off first."
    ),
    "assignee_other_location": N_("@%(handle)s works for another location and cannot see this conversation."),
    "assignee_other_account": N_("@%(handle)s answers other accounts only and cannot see this conversation."),
    "snooze_past": N_("Choose a time in the future to snooze until."),
    "tag_empty": N_("Write the tag to add."),
    "tag_long": N_("A tag has at most %(most)s characters."),
    "tag_characters": N_("A tag cannot hold control or formatting characters."),
    "tag_reserved": N_(
        "The tag %(tag)s carries a routing, approval or spam decision: it is not set by hand."
    ),
    "tags_many": N_("A conversation has at most %(most)s tags."),
    "account_key_taken": N_("An account with the key %(account)s exists already: choose another key."),
    "account_identity_ours": N_(
        "%(identity)s is already connected to the account %(account)s: disconnect it there first."
    ),
    "account_identity_elsewhere": N_(
        "%(identity)s is already connected to another organisation: it must be disconnected there first."
    ),
    "account_location_unknown": N_("There is no location %(location)s: pick one from the list."),
    "account_taken_meanwhile": N_("Someone connected the same account meanwhile: reload and try again."),
}
# Values that are codes, said as their label in the reader's language.
LABELLED = {"status"}


def sentence(exc: Exception) -> str | None:
    """The problem in the reader's language, or None when it has no sentence here."""
    if not isinstance(exc, UserError) or exc.key not in SENTENCES:
        return None
    values = {
        name: label(value) if name in LABELLED else network_name(value) if name == "network" else value
        for name, value in exc.params.items()
    }
    try:
        return _(SENTENCES[exc.key], **values)
    except (KeyError, ValueError):
        return None  # a sentence and its values out of step: the English message still says it
