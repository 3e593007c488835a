"""One client shared by the threads of a worker."""

from concurrent.futures import ThreadPoolExecutor


def test_it_serves_many_threads_through_one_client(client, seeded_or_live):
    flow_ids = [f.id for f in client.list_flows()]

    def read(index: int) -> str:
        return client.get_flow(flow_ids[index % len(flow_ids)]).id

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(read, range(200)))

    assert results == [flow_ids[i % len(flow_ids)] for i in range(200)]
