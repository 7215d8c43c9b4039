"""What the OneEntry emulator records for an input event of the sink tests
(the JSON lines gen_input writes), shared by check_delivered and
check_order in oneentry_helpers.bash."""
import json

TYPES = {"product_view", "page_view", "category_view", "search", "product_add_to_cart",
         "product_remove_from_cart", "product_add_to_wishlist", "product_remove_from_wishlist",
         "product_purchase", "product_rating"}


def record_key(rec):
    """A recorded event ({"auth", "body"}) as a comparable string."""
    return json.dumps(rec, sort_keys=True, ensure_ascii=False)


def expect(d):
    """The record key the sink must produce for input event d, or None when
    the sink must reject it (it is dead-lettered, never sent)."""
    t = d.get("type")
    if t not in TYPES: return None
    if t.startswith("product_") and "productId" not in d: return None
    if t in ("page_view", "category_view") and "pageId" not in d: return None
    if t == "search" and not d.get("query"): return None
    if "user_token" in d: auth = "bearer:" + d["user_token"]
    elif "guest_id" in d: auth = "guest:" + d["guest_id"]
    else: return None
    body = {k: d[k] for k in ("type", "productId", "pageId", "categoryId", "query", "meta") if k in d}
    return record_key({"auth": auth, "body": body})
