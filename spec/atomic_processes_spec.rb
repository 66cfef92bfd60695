# frozen_string_literal: true

# AtomicInteger and SharedArray's atomic operations from many processes and
# threads at once: nothing lost, nothing counted twice.
RSpec.describe "atomic integers across processes" do
  processes = 8
  threads = 2

  # Runs the block in `processes` forked children of `threads` threads
  # each, with the child's and thread's numbers, and expects every child
  # to succeed.
  def in_children(processes, threads, &work)
    pids = Array.new(processes) do |child|
      fork_child do
        Array.new(threads) { |thread| Thread.new { work.call(child, thread) } }.each(&:join)
      end
    end
    expect_children_to_succeed(pids, timeout: 60)
  end

  it "#{processes} processes x #{threads} threads x 50k mixed operations end at the exact total" do
    rounds = 50_000
    counter = ProcessShared::AtomicInteger.new
    array = ProcessShared::SharedArray.new(:uint32, 2)
    in_children(processes, threads) do
      i = 0
      while i < rounds
        # Every four rounds add 3 - 1 + 1 + 2 = 5 to each, through every
        # operation that changes a value.
        case i & 3
        when 0
          counter.increment(3)
          array.increment(1, 3)
        when 1
          counter.decrement
          array.decrement(1)
        when 2
          counter.update { |v| v + 1 }
          array.update(1) { |v| v + 1 }
        else
          v = counter.value until v && counter.compare_and_set(v, v + 2)
          w = array[1] until w && array.compare_and_set(1, w, w + 2)
        end
        i += 1
      end
    end
    expected = processes * threads * (rounds / 4) * 5
    expect(counter.value).to eq(expected)
    expect(array.to_a).to eq([0, expected])
  end

  it "stores each result of a contended update exactly once" do
    updates = 5_000
    total = processes * threads * updates
    counter = ProcessShared::AtomicInteger.new
    attempts = ProcessShared::AtomicInteger.new
    stored = ProcessShared::SharedArray.new(:uint8, total + 1) # stored[v]: times v was stored
    in_children(processes, threads) do
      updates.times do
        value = counter.update do |v|
          attempts.increment
          v + 1
        end
        stored.increment(value)
      end
    end
    expect(counter.value).to eq(total)
    expect(stored[0]).to eq(0)
    expect(stored.each_with_index.reject { |times, value| value.zero? || times == 1 }).to eq([])
    expect(attempts.value).to be >= total
  end

  it "max! and min! from many processes end at the true extremes" do
    rounds = 10_000
    # A different pseudo-random walk in every thread of every child.
    walk = lambda do |child, thread|
      random = Random.new((child * threads) + thread)
      Array.new(rounds) { random.rand((-2**40)..(2**40)) }
    end
    peak = ProcessShared::AtomicInteger.new(-2**63)
    trough = ProcessShared::AtomicInteger.new((2**63) - 1)
    extremes = ProcessShared::SharedArray.new(:int64, 2)
    extremes[1] = (2**63) - 1
    in_children(processes, threads) do |child, thread|
      walk.call(child, thread).each do |value|
        peak.max!(value)
        trough.min!(value)
        extremes.max!(0, value)
        extremes.min!(1, value)
      end
    end
    values = (0...processes).flat_map { |child| (0...threads).flat_map { |thread| walk.call(child, thread) } }
    expect([peak.value, trough.value]).to eq(values.minmax.reverse)
    expect(extremes.to_a).to eq([[values.max, 0].max, values.min])
  end
end
