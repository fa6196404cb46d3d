"""Carrier detection: the house's carrier name first, then the tracking number's format."""
import pytest

from adapters.carriers.detect import detect_carrier, tracking_url

VALID_NUMBERS = [
    ("1Z999AA10123456784", "ups"),
    ("1Z879E930346834440", "ups"),
    ("1ZXF38300382722839", "ups"),
    ("9400109104250532908587", "usps"),
    ("9205590164917312751089", "usps"),
    ("420221539101026837331000039521", "usps"),
    ("LZ123456785US", "usps"),
    ("399368623212", "fedex"),
    ("568838414941", "fedex"),
    ("041441760228964", "fedex"),
    ("9611020987654312345672", "fedex"),
    ("61299998820821171811", "fedex"),
    ("3318810025", "dhl_express"),
    ("1815115363", "dhl_express"),
]

#: the numbers above with the check digit changed
BAD_CHECK_DIGITS = [
    "1Z999AA10123456785",
    "9400109104250532908588",
    "399368623213",
    "041441760228965",
    "3318810026",
    "LZ123456784US",
]


@pytest.mark.parametrize(("number", "carrier"), VALID_NUMBERS)
def test_detects_the_carrier_from_a_valid_number(number, carrier):
    """Which carrier does a correctly check-digited number belong to?"""
    assert detect_carrier(number) == carrier


def test_spaces_and_case_do_not_matter():
    """Is a number typed with spaces and in lower case still recognised?"""
    assert detect_carrier(" 1z999aa1 0123456784 ") == "ups"


@pytest.mark.parametrize("number", BAD_CHECK_DIGITS)
def test_a_wrong_check_digit_is_no_carrier(number):
    """Does a number with a wrong check digit get no carrier?"""
    assert detect_carrier(number) is None


@pytest.mark.parametrize("number", ["", "12345", "CP123456785DE", "TBA123456789000"])
def test_numbers_of_carriers_we_do_not_track_are_no_carrier(number):
    """Do foreign postal numbers, Amazon numbers and junk get no carrier?"""
    assert detect_carrier(number) is None


@pytest.mark.parametrize(("hint", "carrier"), [
    ("stamps_com", "usps"),
    ("endicia", "usps"),
    ("usps", "usps"),
    ("ups", "ups"),
    ("ups_walleted", "ups"),
    ("fedex", "fedex"),
    ("dhl_express_worldwide", "dhl_express"),
    ("USPS", "usps"),
    ("UPS", "ups"),
    ("FedEx", "fedex"),
    ("DHL Express", "dhl_express"),
    ("Stamps.com", "usps"),
])
def test_a_known_house_carrier_code_wins(hint, carrier):
    """Does a ShipStation code or ShipBob name decide even when the number says nothing?"""
    assert detect_carrier("NOT-A-TRACKING-NUMBER", hint=hint) == carrier


def test_a_known_hint_overrides_the_number():
    """Does the house's carrier win over what the number looks like?"""
    assert detect_carrier("9400109104250532908587", hint="ups_walleted") == "ups"


@pytest.mark.parametrize("hint", ["DHLGM", "dhl_global_mail", "OnTrac", "amazon", "Veho"])
def test_an_unknown_hint_falls_through_to_the_number(hint):
    """Does a carrier name we do not map fall through to number detection?"""
    assert detect_carrier("9400109104250532908587", hint=hint) == "usps"
    assert detect_carrier("9400109104250532908588", hint=hint) is None


@pytest.mark.parametrize(("carrier", "url"), [
    ("usps", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400109104250532908587"),
    ("ups", "https://www.ups.com/track?loc=en_US&tracknum=9400109104250532908587"),
    ("fedex", "https://www.fedex.com/fedextrack/?trknbr=9400109104250532908587"),
    ("dhl_express", "https://www.dhl.com/us-en/home/tracking/tracking-express.html"
                    "?submit=1&tracking-id=9400109104250532908587"),
])
def test_tracking_url(carrier, url):
    """Which public page shows a package's tracking?"""
    assert tracking_url(carrier, "9400 1091 0425 0532 9085 87") == url


def test_tracking_url_escapes_the_number_and_knows_only_our_carriers():
    """Is a hostile number kept inside the query, and an unknown carrier given no link?"""
    assert tracking_url("ups", "1Z&x=<y>") == (
        "https://www.ups.com/track?loc=en_US&tracknum=1Z%26x%3D%3Cy%3E")
    assert tracking_url("ontrac", "C10999911320231") is None
