"""Throughput of Python's multiprocessing.Queue for small items, one
producer process to one consumer process, for comparison with
bench/queue.rb (which runs this script and prints its figure).

    python3 bench/queue_python.py [items]
"""

import multiprocessing
import sys
import time

ITEM = (1, "job", {"id": 7})


def produce(queue, items):
    for _ in range(items):
        queue.put(ITEM)


def main():
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    queue = multiprocessing.Queue()
    producer = multiprocessing.Process(target=produce, args=(queue, items))
    started = time.monotonic()
    producer.start()
    for _ in range(items):
        queue.get()
    elapsed = time.monotonic() - started
    producer.join()
    print(f"items_per_second={items / elapsed:.1f}")


if __name__ == "__main__":
    main()
