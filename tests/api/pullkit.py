"""Constants the pull-house API tests share (importable, unlike conftest modules)."""
from pathlib import Path

API_PASSWORD = "s3cret-Pull-House-pw"
#: a copy of /work/shared/spec/shipworks/ShipWorks1_0_0.xsd
XSD = Path(__file__).with_name("ShipWorks1_0_0.xsd")
#: the test clock's day (2026-11-02), as the API's m/d/Y dates
DATES = {"startDate": "11/02/2026", "endDate": "11/02/2026"}
