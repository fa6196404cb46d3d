"""The packages on an order page: carrier, tracking link, what the carrier says, who said it,
and the notes support acts on."""
from datetime import timedelta

from adapters.base import Package


def _order_page(client, fid):
    response = client.get(f"/fulfillments/{fid}", follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_tracked_package_shows_its_link_and_source(
        simulator, carrier_account, shipped, check, support):
    """Does support see the UPS link, UPS's words, and that UPS said them?"""
    ups = simulator("ups")
    carrier_account("ups", ups)
    ups.register("1Z999AA10123456784", "delivered")
    fid = shipped(Package("1Z999AA10123456784", carrier="ups_walleted"))
    check()

    page = _order_page(support, fid)

    assert ('href="https://www.ups.com/track?loc=en_US&amp;tracknum=1Z999AA10123456784"'
            in page)
    assert "Track at UPS" in page and "DELIVERED" in page
    assert "According to UPS" in page and "no longer checked" in page


def test_exception_and_stale_notes(app, simulator, carrier_account, shipped, check, support,
                                   clock):
    """A package on hold says so for support; one that went stale says tracking stopped."""
    app.config["TRACKING_STALE_DAYS"] = 1
    dhl = simulator("dhl_express")
    carrier_account("dhl_express", dhl)
    dhl.register("3318810025", "exception")
    fid = shipped(Package("3318810025", carrier="DHL Express"))
    check()

    page = _order_page(support, fid)
    assert "Carrier exception</strong> (support looks):" in page
    assert "Shipment on hold" in page and "data-tracking-stale" not in page

    clock.advance(days=1, minutes=1)
    check()
    page = _order_page(support, fid)
    assert "data-tracking-stale" in page and "Tracking stale" in page


def test_a_carrier_we_do_not_track_shows_no_link(shipped, check, support):
    """An OnTrac package: named as the house named it, no link, waiting on the house."""
    fid = shipped(Package("C10000000000000", carrier="OnTrac"))
    check()

    page = _order_page(support, fid)

    assert "OnTrac" in page and "Track at" not in page
    assert "No OnTrac account can track this package" in page


def test_house_delivery_names_the_house(shipped, check, support, clock):
    """A package the house reported delivered (no UPS account) says the house moved it."""
    fid = shipped(Package("1ZXF38300382722839", carrier="UPS",
                          delivered_at=clock.at - timedelta(hours=1)))
    check()

    packages = _order_page(support, fid).split('<table class="packages">')[1]

    assert "According to the house (Sandbox Fulfillment)" in packages.split("</table>")[0]
