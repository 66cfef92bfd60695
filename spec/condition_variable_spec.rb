# frozen_string_literal: true

require_relative "support/lock_helpers"

RSpec.describe ProcessShared::ConditionVariable do
  let!(:mutex) { ProcessShared::Mutex.new }
  let!(:cond) { described_class.new }

  it "returns nil on timeout and an Integer when woken, holding the mutex again, as Ruby 3.1" do
    expect(mutex.synchronize { [cond.wait(mutex, 0.05), mutex.owned?] }).to eq([nil, true])
    waiter = Thread.new { mutex.synchronize { [cond.wait(mutex), mutex.owned?] } }
    wait_until_blocked(waiter)
    expect(mutex.synchronize { cond.signal }).to equal(cond)
    slept, owned = waiter.value
    expect(slept).to be_an(Integer)
    expect(owned).to be true
    expect(cond.broadcast).to equal(cond)
  end

  it "times out on the monotonic clock within generous bounds" do
    mutex.synchronize do
      [0.1, 0.5].each do |timeout|
        start = monotonic_now
        expect(cond.wait(mutex, timeout)).to be_nil
        expect(monotonic_now - start).to be_between(timeout - 0.01, timeout + 1.0)
      end
    end
  end

  it "does not remember a signal sent when nobody waits" do
    cond.signal
    cond.broadcast
    pid = fork_child { cond.signal }
    expect_children_to_succeed([pid])
    mutex.synchronize do
      start = monotonic_now
      expect(cond.wait(mutex, 0.3)).to be_nil
      expect(monotonic_now - start).to be >= 0.29
    end
  end

  it "raises ProcessError unless the caller holds the mutex, and TypeError for other locks" do
    expect { cond.wait(mutex, 0.01) }.to raise_error(ProcessShared::ProcessError)
    expect { cond.wait(Thread::Mutex.new) }.to raise_error(TypeError)
    expect(mutex).not_to be_locked
  end

  it "works as the stdlib's example: one process waits for the resource another releases" do
    resource = ProcessShared::SharedMemory.new(:int)
    consumer = fork_child do
      mutex.synchronize do
        cond.wait(mutex) while resource.get_int(0).zero?
        raise "resource not handed over" unless resource.get_int(0) == 42
      end
    end
    sleep 0.1
    mutex.synchronize do
      resource.put_int(0, 42)
      cond.signal
    end
    expect_children_to_succeed([consumer])
  end

  it "carries a bounded producer/consumer queue between processes" do
    capacity = 4
    queue = ProcessShared::SharedMemory.new(:int, capacity + 2) # head, count, slots
    not_empty = described_class.new
    not_full = described_class.new
    items = 500
    consumer = fork_child do
      received = []
      items.times do
        mutex.synchronize do
          not_empty.wait(mutex) while queue.get_int(4).zero?
          head = queue.get_int(0)
          received << queue.get_int(8 + (4 * head))
          queue.put_int(0, (head + 1) % capacity)
          queue.put_int(4, queue.get_int(4) - 1)
          not_full.signal
        end
      end
      raise "received out of order or lost items" unless received == (1..items).to_a
    end
    (1..items).each do |item|
      mutex.synchronize do
        not_full.wait(mutex) while queue.get_int(4) == capacity
        tail = (queue.get_int(0) + queue.get_int(4)) % capacity
        queue.put_int(8 + (4 * tail), item)
        queue.put_int(4, queue.get_int(4) + 1)
        not_empty.signal
      end
    end
    expect_children_to_succeed([consumer])
  end

  it "wakes all of 10 waiting processes on broadcast" do
    state = ProcessShared::SharedMemory.new(:int, 2) # [0]: waiting, [1]: go
    pids = Array.new(10) do
      fork_child do
        mutex.synchronize do
          state.put_int(0, state.get_int(0) + 1)
          cond.wait(mutex) while state.get_int(4).zero?
        end
      end
    end
    eventually { mutex.synchronize { state.get_int(0) == 10 } }
    mutex.synchronize do
      state.put_int(4, 1)
      cond.broadcast
    end
    expect_children_to_succeed(pids, timeout: 10)
  end

  it "wakes one waiter per signal" do
    state = ProcessShared::SharedMemory.new(:int, 2) # [0]: waiting, [1]: woken
    waiters = Array.new(3) do
      quiet_thread do
        mutex.synchronize do
          state.put_int(0, state.get_int(0) + 1)
          cond.wait(mutex)
          state.put_int(4, state.get_int(4) + 1)
        end
      end
    end
    eventually { mutex.synchronize { state.get_int(0) == 3 } }
    3.times do |round|
      mutex.synchronize { cond.signal }
      eventually { mutex.synchronize { state.get_int(4) >= round + 1 } }
    end
    waiters.each { |thread| expect(thread.join(10)).to eq(thread) }
  end

  it "loses no wake-up in 10,000 round trips between two processes" do
    rounds = 10_000
    turn = ProcessShared::SharedMemory.new(:int)
    play = lambda do |me|
      mutex.synchronize do
        rounds.times do |round|
          while turn.get_int(0) % 2 != me
            # Timing out although the other process has passed the turn
            # means its signal was lost.
            raise "lost wake-up in round #{round}" if cond.wait(mutex, 5).nil? && turn.get_int(0) % 2 == me
          end
          turn.put_int(0, turn.get_int(0) + 1)
          cond.signal
        end
      end
    end
    child = fork_child { play.call(1) }
    play.call(0)
    expect_children_to_succeed([child], timeout: 60)
    expect(turn.get_int(0)).to eq(2 * rounds)
  end

  it "waits on a Monitor entered several times, coming back at the same depth" do
    monitor = ProcessShared::Monitor.new
    waiter = Thread.new do
      monitor.synchronize do
        monitor.synchronize do
          cond.wait(monitor, 10)
          owned = monitor.mon_owned?
          monitor.exit
          still_owned = monitor.mon_owned? # entered twice: one exit keeps it
          monitor.enter
          [owned, still_owned]
        end
      end
    end
    wait_until_blocked(waiter)
    expect(monitor).not_to be_mon_locked
    monitor.synchronize { cond.signal }
    expect(waiter.value).to eq([true, true])
    expect(monitor).not_to be_mon_locked
  end

  it "closes, and raises ClosedError afterwards" do
    cond.close
    expect(cond).to be_closed
    expect { cond.signal }.to raise_error(ProcessShared::ClosedError)
  end
end
