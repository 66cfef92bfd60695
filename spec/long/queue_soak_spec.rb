# frozen_string_literal: true

# 8 producer and 8 consumer processes share one small ProcessShared::Queue
# (so the ring wraps and both sides block often) while one of them, at
# random, is SIGKILLed every 200 ms and replaced. The queue has no
# journal, no repair step and no help from the workers: its own protocol
# must keep every item whole and delivered once.
#
# Accounting: producer number k pushes items [k, i] for i = 0, 1, …,
# marking `attempted[k * PER + i]` just before each push. Consumers count
# every item they pop in `consumed` (under a Mutex, so that two pops of
# one item could not hide each other). At the end no item may be counted
# twice or be one never attempted, and the items attempted but never
# counted are at most one per kill: the one a killed producer was pushing,
# or the one a killed consumer had popped but not yet counted.
RSpec.describe "Soak: 16 processes on a Queue, one SIGKILLed every 200 ms", :long do
  soak_seconds = 10
  per_producer = 100_000
  max_producers = 128

  it "delivers every item exactly once, except at most one per kill" do
    queue = ProcessShared::Queue.new(bytes: 2048)
    attempted = ProcessShared::SharedMemory.new(:uint8, per_producer * max_producers)
    consumed = ProcessShared::SharedMemory.new(:uint8, per_producer * max_producers)
    count_lock = ProcessShared::Mutex.new
    stop = ProcessShared::SharedMemory.new(:uint8)
    bad = ProcessShared::SharedMemory.new(:uint8)
    producers_started = 0

    start_producer = lambda do
      number = producers_started
      producers_started += 1
      fork_child do
        base = number * per_producer
        per_producer.times do |index|
          break if stop.get_uint8(0) == 1

          attempted.put_uint8(base + index, 1)
          # Padding of varying length makes records wrap the ring anywhere.
          queue.push([number, index, "x" * (index % 97)])
        end
      end
    end
    start_consumer = lambda do
      fork_child do
        while (item = queue.pop)
          number, index, padding = item
          bad.put_uint8(0, 1) unless padding == "x" * (index % 97)
          id = (number * per_producer) + index
          count_lock.synchronize { consumed.put_uint8(id, consumed.get_uint8(id) + 1) }
        end
      end
    end

    roles = {}
    8.times do
      roles[start_producer.call] = :producer
      roles[start_consumer.call] = :consumer
    end
    run_end = monotonic_now + soak_seconds
    kills = Hash.new(0)
    next_kill = monotonic_now + 0.2
    while next_kill < run_end
      sleep [next_kill - monotonic_now, 0].max
      next_kill += 0.2
      victim = roles.keys.sample
      Process.kill(:KILL, victim)
      wait_child(victim, timeout: 5)
      role = roles.delete(victim)
      kills[role] += 1
      roles[role == :producer ? start_producer.call : start_consumer.call] = role
    end

    stop.put_uint8(0, 1)
    producers = roles.select { |_, kind| kind == :producer }.keys
    expect_children_to_succeed(producers, timeout: 20)
    queue.close
    expect_children_to_succeed(roles.keys - producers, timeout: 20)

    # Producer k attempted a prefix of its ids: 0 up to its count.
    duplicates = unattempted = missing = total = 0
    producers_started.times do |number|
      base = number * per_producer
      tried = attempted.get_bytes(base, per_producer).index("\0") || per_producer
      counted = consumed.get_bytes(base, per_producer)
      duplicates += counted.count("^\x00\x01")
      unattempted += counted[tried..].count("^\x00")
      missing += counted[0, tried].count("\x00")
      total += counted.count("\x01")
    end
    report = "#{total} items from #{producers_started} producers; kills: #{kills[:producer]} producers, " \
             "#{kills[:consumer]} consumers; #{missing} missing"
    puts "\nqueue soak: #{report}" if ENV["PROCESS_SHARED_TIMINGS"]

    # 50 planned; forking a replacement can take long on a loaded machine.
    expect(kills.values.sum).to be >= soak_seconds * 3
    expect(kills[:producer]).to be >= 1
    expect(kills[:consumer]).to be >= 1
    expect(bad.get_uint8(0)).to eq(0), "an item came out altered"
    expect(duplicates).to eq(0), "items popped twice (#{report})"
    expect(unattempted).to eq(0), "items popped but never pushed (#{report})"
    expect(missing).to be <= kills.values.sum, report
    expect(total).to be > 1000, report
    expect(queue.size).to eq(0)
    expect(queue.num_waiting).to eq(0)
  ensure
    [queue, attempted, consumed, count_lock, stop, bad].each { |object| object&.close }
  end
end
