"""Address rules Order Entry and address fixes share: ISO countries, US states, ZIP codes."""
from __future__ import annotations

import re

#: ISO 3166-1 alpha-2 codes
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split())

#: US states, DC, territories and military post codes
US_STATES = frozenset("""
AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP AA AE AP""".split())

_ZIP = re.compile(r"\d{5}(-\d{4})?")


def address_errors(country: str, state: str, postal_code: str) -> dict[str, str]:
    """Messages keyed by field name for a country/state/ZIP that cannot be shipped to."""
    errors = {}
    country = (country or "").strip().upper()
    if country not in COUNTRIES:
        errors["country"] = "Enter a two-letter ISO country code, e.g. US, CA, GB."
        return errors
    if country == "US":
        if (state or "").strip().upper() not in US_STATES:
            errors["state"] = "Enter a two-letter US state code, e.g. NY or CA."
        if not _ZIP.fullmatch((postal_code or "").strip()):
            errors["postal_code"] = "Enter a US ZIP code: 5 digits, or ZIP+4 like 10001-1234."
    elif not (postal_code or "").strip() and country in ("CA", "GB", "AU", "DE", "FR"):
        errors["postal_code"] = "A postal code is required for this country."
    return errors
