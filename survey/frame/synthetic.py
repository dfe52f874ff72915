"""A synthetic customer base, written as a CRM would export it (for the demo, tests and bench).

The file looks like a French Excel export: ``;`` separators, Windows-1252, French headers,
phones written ``06 12 34 56 78`` or ``+33 6…``, dates day-first. Everything comes from a seeded
generator, so the same arguments give the same bytes.
"""

from __future__ import annotations

import numpy as np

HEADERS = (
    "N° client", "Nom", "Courriel", "Téléphone", "Langue", "Date dernier contact", "Segment",
    "Canal", "Site",
)
SEGMENTS = ("particulier", "professionnel")
SEGMENT_SHARES = (0.7, 0.3)
CHANNELS = ("téléphone", "email", "chat", "courrier")
CHANNEL_SHARES = (0.5, 0.3, 0.15, 0.05)
SITES = ("Lyon", "Nantes", "Lille")
SITE_SHARES = (0.5, 0.3, 0.2)
FIRST_NAMES = ("Jean", "Marie", "Loïc", "Chloé", "Hélène", "François", "Zoé", "Amélie", "Noël")
LAST_NAMES = ("Dupont", "Lefèvre", "Martin", "Bénard", "Müller", "Garçon", "Roux", "Faure")
DOMAINS = ("exemple.fr", "courriel.fr", "example.com", "orange-exemple.fr")


def synthetic_customer_rows(count: int, seed: int = 2026) -> list[list[str]]:
    """`count` rows (without the header), about 10 % without email and 5 % without phone."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, len(FIRST_NAMES), count)
    last = rng.integers(0, len(LAST_NAMES), count)
    domain = rng.integers(0, len(DOMAINS), count)
    has_email = rng.random(count) >= 0.10
    has_phone = rng.random(count) >= 0.05
    mobile = rng.integers(0, 2, count)
    subscriber = rng.integers(0, 100_000_000, count)
    international = rng.random(count) < 0.2
    english = rng.random(count) < 0.08
    day = rng.integers(0, 700, count)
    segment = rng.choice(len(SEGMENTS), count, p=SEGMENT_SHARES)
    channel = rng.choice(len(CHANNELS), count, p=CHANNEL_SHARES)
    site = rng.choice(len(SITES), count, p=SITE_SHARES)
    base = np.datetime64("2024-01-01")
    rows = []
    for i in range(count):
        first_name, last_name = FIRST_NAMES[first[i]], LAST_NAMES[last[i]]
        email = (
            f"{_ascii(first_name)}.{_ascii(last_name)}{i}@{DOMAINS[domain[i]]}"
            if has_email[i]
            else ""
        )
        # Valid mobile ranges only (06 then 0-2 or 4-8, 07 then 3-9); the last seven digits
        # are a permutation of the row number, so no two customers share a phone.
        line = (i * 7919 + 12345) % 10_000_000
        if mobile[i]:
            digits = f"7{3 + subscriber[i] % 7}{line:07d}"
        else:
            digits = f"6{'0124578'[subscriber[i] % 7]}{line:07d}"
        pairs = " ".join(digits[j : j + 2] for j in range(1, 9, 2))
        phone = ""
        if has_phone[i]:
            phone = f"+33 {digits[0]} {pairs}" if international[i] else f"0{digits[0]} {pairs}"
        contact = str(base + day[i])
        rows.append(
            [
                f"C{i + 1:07d}", f"{first_name} {last_name}", email, phone,
                "en" if english[i] else "fr", f"{contact[8:10]}/{contact[5:7]}/{contact[:4]}",
                SEGMENTS[segment[i]], CHANNELS[channel[i]], SITES[site[i]],
            ]
        )
    return rows


def _ascii(name: str) -> str:
    return name.lower().translate(str.maketrans("ïéèüçëô", "ieeuceo"))


def synthetic_customer_csv(
    count: int, seed: int = 2026, *, encoding: str = "windows-1252", delimiter: str = ";"
) -> bytes:
    """The rows of `synthetic_customer_rows` as a CSV file's bytes (CRLF line ends)."""
    lines = [delimiter.join(HEADERS)]
    lines += [delimiter.join(row) for row in synthetic_customer_rows(count, seed)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
