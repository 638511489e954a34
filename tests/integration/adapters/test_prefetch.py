"""PrefetchingCustomers on moto: a notification's lookups in two batch reads, each answer used once."""

from __future__ import annotations

import boto3

from bench.common import AwsRequestCounter


def counted():
    from engage import wiring
    from engage.adapters.dynamo.customers_prefetch import PrefetchingCustomers

    counter = AwsRequestCounter()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call.*.*", counter)  # type: ignore[union-attr]
    wiring.reset()
    return PrefetchingCustomers(wiring.customers.repository()), counter


def test_identities_and_profiles_are_read_in_two_batch_calls_and_served_once(aws):
    from engage.customers.profiles import Customer

    customers, counter = counted()
    try:
        for n in range(3):
            customers.create(Customer(id=f"c_{n:032x}", wa_id=f"4915100000{n:03d}", user_id=f"DE.{n:019d}"))
        counter.reset()
        customers.prefetch(wa_ids=[f"4915100000{n:03d}" for n in range(3)] + ["4915999999999"], user_ids=["DE.x"])
        assert counter.calls == {"dynamodb.BatchGetItem": 2}
        assert customers.find_id(wa_id="4915100000001") == f"c_{1:032x}"
        assert customers.find_id(wa_id="4915999999999") is None
        assert customers.get(f"c_{1:032x}").wa_id == "4915100000001"
        assert counter.calls == {"dynamodb.BatchGetItem": 2}
        # served once: the next lookups read the table again
        assert customers.find_id(wa_id="4915100000001") == f"c_{1:032x}"
        assert customers.get(f"c_{1:032x}") is not None
        assert counter.calls["dynamodb.GetItem"] == 2
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-call.*.*", counter)  # type: ignore[union-attr]


def test_prefetching_nothing_reads_nothing(aws):
    customers, counter = counted()
    try:
        customers.prefetch(wa_ids=[], user_ids=[""])
        assert counter.total() == 0
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-call.*.*", counter)  # type: ignore[union-attr]
