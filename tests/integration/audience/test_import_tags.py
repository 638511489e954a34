"""Which tags an import accepts, on moto: catalogued ones, and uncatalogued ones that have members now."""

from __future__ import annotations

from engage.tagging.catalog import TagChange


def test_a_tag_is_in_use_while_someone_holds_it(aws):
    from engage.adapters.dynamo.audience_imports import ImportTagNames
    from engage.wiring import aws as wired
    from engage.wiring import tagging

    def change(customer_id: str, action: str) -> TagChange:
        return TagChange(
            customer_id=customer_id,
            tag="product:lipstick",
            action=action,
            source="system",
            event_id=f"order-{customer_id}-{action}",
            at="2026-11-23T10:00:00Z",
        )

    names = ImportTagNames(wired.table())
    assert not names.has_members("product:lipstick")
    tagging.writer().apply_batch([change("c_1", "add"), change("c_2", "add")])
    assert names.has_members("product:lipstick") and not names.has_members("product:mascara")
    tagging.writer().apply_batch([change("c_1", "remove"), change("c_2", "remove")])
    assert not names.has_members("product:lipstick")
