"""Names for the simulated world: companies, salespeople, contacts and products.

Word lists rather than random strings, so that exports read like real ones and carry the characters
real ones carry (accents, curly apostrophes, ampersands, a comma inside a name) that encodings and
Excel round trips damage. Every character is representable in cp1252, the encoding of Salesforce
report exports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesinsight.exceptions import InvalidValueError

__all__ = [
    "INDUSTRIES",
    "LEGAL_FORMS",
    "PRODUCTS",
    "company_names",
    "contact_names",
    "person_names",
]

# fmt: off
_COMPANY_WORDS = (
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Birchwood", "Blue Harbor", "Bluestone",
    "Brightwater", "Cascade", "Cedar", "Citadel", "Clearview", "Cobalt", "Copperfield", "Crescent",
    "Crown", "Delta", "Eastgate", "Echo", "Emerald", "Evergreen", "Falcon", "Fieldstone", "Firefly",
    "Foxglove", "Frontier", "Galaxy", "Garnet", "Glacier", "Golden Gate", "Granite", "Greenleaf",
    "Harbor", "Hawthorn", "Highland", "Horizon", "Ironwood", "Ivory", "Jade", "Juniper", "Keystone",
    "Lakeshore", "Lighthouse", "Linden", "Lumen", "Maple", "Meridian", "Midland", "Monarch",
    "Northwind", "Nova", "Oakridge", "Obsidian", "Olympus", "Orchid", "Pacific", "Paragon",
    "Pinnacle", "Pioneer", "Polaris", "Prairie", "Quantum", "Quarry", "Radiant", "Redwood",
    "Ridgeline", "Riverbend", "Sapphire", "Sequoia", "Silverline", "Skyline", "Southport",
    "Sterling", "Stonebridge", "Summit", "Sunrise", "Tidewater", "Timberline", "Trident", "Union",
    "Vanguard", "Vertex", "Westbrook", "Willow", "Windmill", "Zenith", "Bright & Sons",
    "Hale & Partners", "Smith, Jones &", "Müller", "Nordström", "Lumière", "Zürich", "Björk",
    "García", "Dubois", "Søndergaard", "O’Connor", "D’Angelo", "Café Olé", "Señora",
)
# Sector word -> industry, so a company's name and its industry agree.
_SECTORS = {
    "Analytics": "Technology", "Software": "Technology", "Systems": "Technology",
    "Digital": "Technology", "Networks": "Technology", "Labs": "Technology",
    "Logistics": "Transportation", "Freight": "Transportation", "Marine": "Transportation",
    "Foods": "Food & Beverage", "Brewing": "Food & Beverage", "Farms": "Food & Beverage",
    "Health": "Healthcare", "Clinics": "Healthcare", "Pharma": "Healthcare",
    "Biotech": "Healthcare", "Capital": "Finance", "Insurance": "Finance", "Bank": "Finance",
    "Energy": "Energy", "Solar": "Energy", "Power": "Energy",
    "Manufacturing": "Manufacturing", "Metals": "Manufacturing", "Instruments": "Manufacturing",
    "Chemicals": "Manufacturing", "Robotics": "Manufacturing", "Retail": "Retail",
    "Outfitters": "Retail", "Supply": "Retail", "Media": "Media", "Studios": "Media",
    "Consulting": "Consulting", "Partners": "Consulting", "Construction": "Construction",
    "Builders": "Construction", "Education": "Education", "Academy": "Education",
    "Hotels": "Hospitality", "Resorts": "Hospitality",
}
INDUSTRIES = tuple(sorted(set(_SECTORS.values())))
# Legal form -> (country, currency): the form says where a company is registered.
LEGAL_FORMS = {
    "Inc.": ("United States", "USD"),
    "LLC": ("United States", "USD"),
    "Corp.": ("United States", "USD"),
    "Co.": ("United States", "USD"),
    "Ltd": ("United Kingdom", "GBP"),
    "plc": ("United Kingdom", "GBP"),
    "GmbH": ("Germany", "EUR"),
    "AG": ("Germany", "EUR"),
    "S.A.": ("France", "EUR"),
    "B.V.": ("Netherlands", "EUR"),
}
_FORM_WEIGHTS = np.array([0.24, 0.14, 0.1, 0.06, 0.16, 0.04, 0.1, 0.04, 0.06, 0.06])

_FIRST_NAMES = (
    "Aaron", "Abigail", "Adam", "Aisha", "Alan", "Alice", "Amir", "Ana", "Andrea", "Ben",
    "Bianca", "Carlos", "Chloe", "Chris", "Dana", "Daniel", "David", "Diego", "Elena", "Emma",
    "Eric", "Fatima", "Felix", "Grace", "Hannah", "Henry", "Ian", "Isabel", "Jack", "James",
    "Jana", "Jason", "José", "Julia", "Karen", "Kevin", "Laura", "Leo", "Linda", "Lucas", "Maria",
    "Mark", "Maya", "Michael", "Mia", "Nadia", "Nathan", "Noah", "Olivia", "Omar", "Paul", "Priya",
    "Rachel", "Rahul", "Renée", "Ryan", "Sara", "Sean", "Sofia", "Sophie", "Tom", "Victor", "Zoë",
)
_LAST_NAMES = (
    "Adams", "Ahmed", "Alvarez", "Anderson", "Baker", "Bauer", "Bennett", "Brown", "Campbell",
    "Chen", "Clark", "Collins", "Cooper", "Davies", "Díaz", "Evans", "Fischer", "Garcia", "Green",
    "Gupta", "Hall", "Harris", "Hughes", "Jackson", "Johnson", "Kelly", "Khan", "Kim", "King",
    "Kowalski", "Lee", "Lewis", "Lopez", "Martin", "Meyer", "Miller", "Moore", "Morgan", "Murphy",
    "Nguyen", "Novak", "O’Neill", "Patel", "Peters", "Quinn", "Reed", "Rossi", "Santos", "Schmidt",
    "Scott", "Singh", "Smith", "Taylor", "Thompson", "Turner", "Walker", "Wang", "Weber", "White",
    "Wilson", "Wright", "Young", "Zhang",
)
_INITIALS = tuple("ABCDEFGHJKLMNPRSTVW")
# fmt: on

# (product, unit list price in USD, share of first purchases): the catalogue of the simulated vendor.
PRODUCTS = (
    ("Analytics Starter", 1_200.0, 0.22),
    ("Training Package", 1_500.0, 0.10),
    ("Premium Support", 2_500.0, 0.14),
    ("Consulting Days", 3_000.0, 0.10),
    ("Analytics Pro", 4_800.0, 0.18),
    ("Integration Hub", 6_000.0, 0.10),
    ("Security Suite", 9_000.0, 0.09),
    ("Data Platform", 12_000.0, 0.07),
)


def company_names(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` distinct company names with their industry, country and currency.

    Parameters
    ----------
    n : int
        How many companies.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    DataFrame
        Columns ``account, industry, country, currency``, one row per company, names unique.

    Examples
    --------
    >>> import numpy as np
    >>> names = company_names(3, np.random.default_rng(0))
    >>> names.columns.tolist(), names["account"].is_unique
    (['account', 'industry', 'country', 'currency'], True)
    """
    sectors = np.array(list(_SECTORS))
    words = np.array(_COMPANY_WORDS)
    n_pairs = len(words) * len(sectors)
    rounds = -(-n // n_pairs)
    picks = np.concatenate([rng.permutation(n_pairs) for _ in range(rounds)])[:n]
    word, sector = words[picks // len(sectors)], sectors[picks % len(sectors)]
    # A second round of the same word pairs is told apart by a number, as "Summit Labs 2".
    repeat = np.repeat(np.arange(rounds), n_pairs)[:n]
    forms = np.array(list(LEGAL_FORMS))
    form = forms[rng.choice(len(forms), size=n, p=_FORM_WEIGHTS / _FORM_WEIGHTS.sum())]
    base = pd.Series(word, dtype=str) + " " + pd.Series(sector, dtype=str)
    numbered = base + " " + pd.Series(repeat + 1).astype(str)
    stem = base.where(repeat == 0, numbered)
    country_currency = [LEGAL_FORMS[f] for f in form]
    return pd.DataFrame(
        {
            "account": stem + " " + pd.Series(form, dtype=str),
            "industry": pd.Series([_SECTORS[s] for s in sector], dtype=str),
            "country": pd.Series([c for c, _ in country_currency], dtype=str),
            "currency": pd.Series([c for _, c in country_currency], dtype=str),
        }
    )


def person_names(n: int, rng: np.random.Generator) -> pd.Series:
    """Draw ``n`` distinct person names ("Maria Chen", then "Maria K. Chen" once pairs run out).

    Parameters
    ----------
    n : int
        How many people.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    Series of str
        Unique names.

    Examples
    --------
    >>> import numpy as np
    >>> person_names(1000, np.random.default_rng(0)).is_unique
    True
    """
    first, last = np.array(_FIRST_NAMES), np.array(_LAST_NAMES)
    n_pairs = len(first) * len(last)
    n_total = n_pairs * (1 + len(_INITIALS))
    if n > n_total:
        raise InvalidValueError(
            f"Cannot draw {n} distinct person names; at most {n_total} exist. "
            "Simulate fewer salespeople."
        )
    picks = rng.choice(n_total, size=n, replace=False)
    pair, middle = picks % n_pairs, picks // n_pairs
    initials = np.array(["", *(f"{c}. " for c in _INITIALS)])
    return (
        pd.Series(first[pair // len(last)], dtype=str)
        + " "
        + pd.Series(initials[middle], dtype=str)
        + pd.Series(last[pair % len(last)], dtype=str)
    )


def contact_names(n: int, rng: np.random.Generator) -> pd.Series:
    """Draw ``n`` contact names; unlike :func:`person_names` they may repeat, as in any CRM.

    Examples
    --------
    >>> import numpy as np
    >>> len(contact_names(5, np.random.default_rng(0)))
    5
    """
    first = np.array(_FIRST_NAMES)[rng.integers(0, len(_FIRST_NAMES), n)]
    last = np.array(_LAST_NAMES)[rng.integers(0, len(_LAST_NAMES), n)]
    return pd.Series(first, dtype=str) + " " + pd.Series(last, dtype=str)
