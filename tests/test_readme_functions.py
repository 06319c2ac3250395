"""The README names every registered Excel function, and counts them truly."""

import re

from xlplan.udfs import FUNCTIONS

import doc_pages

README = doc_pages.text()  # the README and docs/, where the reference lives
NUMBER_WORDS = {
    "thirty-four": 34,
    "thirty-five": 35,
    "thirty-six": 36,
    "thirty-seven": 37,
    "thirty-eight": 38,
}


def test_every_registered_function_is_documented():
    missing = [name for name in FUNCTIONS if not re.search(rf"`={name}\(|`{name}`", README)]
    assert missing == []


def test_the_stated_count_is_the_registry_size():
    stated = re.search(r"^(\S+) functions, the same in every Excel", README, re.MULTILINE)
    assert stated and NUMBER_WORDS[stated.group(1).lower()] == len(FUNCTIONS)
