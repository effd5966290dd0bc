"""Free text as a patient types it, read into search terms.

"skin doctor London" is a specialty ("skin doctor": Dermatology) and a word
("london") that must match a doctor's name, specialty, clinic or city; "Dr.
Mehta" is the word "mehta". Parsing is pure Python (no query): the selectors
turn the terms into one filter (clinics.selectors.doctor_filter, clinic_filter).

Text is compared folded: lower case, accents and apostrophes dropped, on both
sides (`search_fold` here and for the query words; the database function
`hs_search_fold` for the columns: SQL on PostgreSQL, made in migration 0006
with the trigram indexes over it; this same Python function on SQLite,
registered on each connection by clinics.apps).
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db.models import CharField, F, Func, Value

# Everyday words for each specialty. The keys are specialty names as doctors'
# profiles spell them (seed_demo's and the usual others); each phrase finds
# every doctor whose specialty is that name or one of its spellings in
# SPECIALTY_SPELLINGS. A specialty's own name is recognised without a listing.
SPECIALTY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Cardiology": ("cardiologist", "cardiac", "heart", "heart doctor", "heart specialist", "cardio"),
    "Dermatology": ("dermatologist", "derm", "skin", "skin doctor", "skin specialist", "skin care"),
    "Pediatrics": (
        "pediatrician", "paediatrician", "children's doctor", "childrens doctor", "child doctor",
        "kids doctor", "kid doctor", "kids", "children", "child", "baby doctor", "child specialist",
    ),
    "General Practice": (
        "gp", "general practitioner", "family doctor", "family medicine", "general physician",
        "general medicine",
    ),
    "Orthopedics": (
        "orthopedist", "orthopaedist", "orthopedic", "orthopaedic", "ortho", "bone doctor", "bones",
        "bone", "joints", "joint", "fracture",
    ),
    "Neurology": ("neurologist", "brain doctor", "nerve doctor", "brain", "nerves"),
    "Gynecology": ("gynecologist", "gynaecologist", "gyno", "women's doctor", "womens doctor", "obgyn"),
    "Ophthalmology": ("ophthalmologist", "eye doctor", "eye specialist", "eyes", "eye"),
    "ENT": ("ear nose throat", "ear nose and throat", "ear doctor", "throat doctor", "otolaryngology"),
    "Psychiatry": ("psychiatrist", "mental health", "depression", "anxiety"),
    "Dentistry": ("dentist", "dental", "teeth", "tooth"),
    "Oncology": ("oncologist", "cancer", "cancer doctor"),
}

# Other spellings of a specialty name that doctors' profiles use.
SPECIALTY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Pediatrics": ("Paediatrics", "Pediatric", "Paediatric"),
    "Orthopedics": ("Orthopaedics",),
    "Gynecology": ("Gynaecology", "Obstetrics and Gynecology", "Obstetrics & Gynaecology"),
    "General Practice": ("General Medicine", "Family Medicine"),
    "Dentistry": ("Dental",),
}

# Words that say nothing about whom to find: the "Dr" before a name, "doctor"
# alone, joining words ("a skin doctor in London").
FILLER_WORDS = frozenset({
    "dr", "drs", "doc", "doctor", "doctors", "docter", "specialist", "specialists",
    "in", "near", "at", "the", "a", "an", "for", "of", "and", "with", "me", "my", "find",
})

# The longest phrase of SPECIALTY_SYNONYMS, in words.
_MAX_PHRASE_WORDS = 4
_WORD = re.compile(r"\w+")
# A query reads at most this many words (the rest are ignored): each one is a
# filter of its own, and a pasted paragraph must not become a huge query.
MAX_SEARCH_WORDS = 8
# Words shorter than this are matched as written only: trigrams of one or two
# letters match nearly anything.
TYPO_MIN_LENGTH = 4


def search_fold(text: str | None) -> str | None:
    """Lower case, accents and apostrophes dropped: "José D'Souza" -> "jose dsouza".
    The same as the database's hs_search_fold (None stays None, as SQL's NULL)."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.lower().replace("'", "").replace("\u2019", "")


class SearchFold(Func):
    """hs_search_fold(expression): the column folded as search_fold folds the query."""

    function = "hs_search_fold"
    output_field = CharField()


def fold(field: str) -> SearchFold:
    return SearchFold(F(field))


def fold_value(word: str) -> SearchFold:
    return SearchFold(Value(word))


def _phrases() -> dict[tuple[str, ...], str]:
    """Folded phrase words -> specialty, own names included."""
    phrases = {}
    for specialty, synonyms in SPECIALTY_SYNONYMS.items():
        for phrase in (specialty, *SPECIALTY_SPELLINGS.get(specialty, ()), *synonyms):
            phrases[tuple(_WORD.findall(search_fold(phrase)))] = specialty
    return phrases


_PHRASES = _phrases()


def specialty_names(specialty: str) -> tuple[str, ...]:
    """The specialty's name and the other spellings profiles use for it."""
    return (specialty, *SPECIALTY_SPELLINGS.get(specialty, ()))


@dataclass(frozen=True)
class SearchTerms:
    """What a query says: `specialties` (each recognised phrase, with the words
    it was written in) and the `words` left, each to match some name."""

    text: str
    specialties: tuple[tuple[str, str], ...]  # (specialty, the phrase as folded)
    words: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.specialties or self.words)

    @property
    def specialty(self) -> str | None:
        """The one specialty named, if exactly one is."""
        named = {specialty for specialty, _ in self.specialties}
        return named.pop() if len(named) == 1 else None


def search_terms_parse(text: str | None) -> SearchTerms:
    """Read free text into SearchTerms: the longest specialty phrases first,
    left to right, then the remaining words without the filler ("Dr", "in");
    only the first MAX_SEARCH_WORDS words, each cut to 50 characters."""
    words = [word[:50] for word in _WORD.findall(search_fold(text or ""))[:MAX_SEARCH_WORDS]]
    specialties, rest, i = [], [], 0
    while i < len(words):
        for size in range(min(_MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            specialty = _PHRASES.get(tuple(words[i:i + size]))
            if specialty:
                specialties.append((specialty, " ".join(words[i:i + size])))
                i += size
                break
        else:
            if words[i] not in FILLER_WORDS:
                rest.append(words[i])
            i += 1
    return SearchTerms(text=(text or "").strip(), specialties=tuple(specialties), words=tuple(dict.fromkeys(rest)))


def specialty_phrases() -> dict[str, str]:
    """Every recognised phrase (as written in SPECIALTY_SYNONYMS) -> specialty, for suggestions."""
    return {phrase: specialty for specialty, synonyms in SPECIALTY_SYNONYMS.items() for phrase in synonyms}
