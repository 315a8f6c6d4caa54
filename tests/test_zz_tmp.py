from tests.hardening import visitor
from tests.pagekit import text_of
from tests.shop import CAMILLE, order_ref, artist_ref, LUNE
import io
def test_t(app):
    from mirette_returns_plugin.state import current_state
    with app.app_context():
        current_state().config["REQUESTS_PER_HOUR"] = 1
        pending = order_ref("MIR-1001"); other = order_ref("MIR-1002"); lune = artist_ref(LUNE)
    c = visitor(app, CAMILLE)
    print(c.post(f"/returns/orders/{other}/cancel", data={"scope": "all", "message": "Please"}).status_code)
    c.get("/returns/orders/1")
    r = c.post(f"/returns/orders/{pending}/cancel", data={"artist_ref": lune, "message": "Please"})
    print(r.status_code, "many requests" in text_of(r))
    r = c.post(f"/returns/orders/{pending}/cancel", data={"scope": "all", "message": "Please"}, headers={"HX-Request": "true"})
    print(r.status_code, "many requests" in text_of(r), text_of(r)[:200])
