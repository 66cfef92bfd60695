# frozen_string_literal: true

require_relative "support/lock_helpers"

RSpec.describe ProcessShared::Queue do
  def make(*args, **options)
    queue = described_class.new(*args, **options)
    opened << queue
    queue
  end

  def opened
    @opened ||= []
  end

  def sized(max, **options)
    queue = ProcessShared::SizedQueue.new(max, **options)
    opened << queue
    queue
  end

  def elapsed
    start = monotonic_now
    yield
    monotonic_now - start
  end

  it "passes objects first in, first out, as Marshal copies" do
    queue = make
    item = [1, "job", { id: 7 }]
    expect(queue.push(item)).to be(queue)
    queue << :two
    queue.enq(nil)
    expect(queue.size).to eq(3)
    expect(queue.length).to eq(3)
    popped = queue.pop
    expect(popped).to eq(item)
    expect(popped).not_to be(item)
    expect(queue.shift).to eq(:two)
    expect(queue.deq).to be_nil
    expect(queue).to be_empty
  end

  # What Marshal.load(Marshal.dump(object)) gives, compared by its Marshal
  # data (which records classes, encodings and instance variables), plus
  # frozenness and, for Hashes, the frozenness of the keys.
  def marshal_copy_of?(copy, object)
    expected = Marshal.load(Marshal.dump(object))
    same = Marshal.dump(copy) == Marshal.dump(expected) && copy.frozen? == expected.frozen?
    same &&= copy.keys.map(&:frozen?) == expected.keys.map(&:frozen?) if expected.is_a?(Hash)
    same
  end

  it "gives back exactly what a Marshal round trip gives, for plain data and everything else" do
    queue = make
    shared = +"shared"
    recursive = []
    recursive << recursive
    with_ivar = +"ivar"
    with_ivar.instance_variable_set(:@note, 1)
    with_default = Hash.new(5).merge(a: 1)
    by_identity = {}.compare_by_identity.merge("a" => 1)
    nested = Array.new(100).inject([]) { |inner, _| [inner] }
    subclass = Class.new(String)
    stub_const("QueueSpecString", subclass)
    objects = [nil, true, false, 0, -1, (2**62) - 1, -(2**62), 2**64, 1.5, -0.0, Float::INFINITY, 1e-320,
               "", "job", "é", "\xff".b, "ascii".encode("US-ASCII"), "sjis".encode("Shift_JIS"),
               (+"\xff").force_encoding("UTF-8"), :sym, :é, :"with space", "dynamic #{rand}".to_sym,
               [1, "job", { id: 7 }], { "key" => "value", 1 => [2, { 3 => nil }], [1] => { a: :b }, 1.0 => 2 },
               [shared, shared], recursive, with_ivar, with_default, by_identity, nested,
               QueueSpecString.new("sub"), 1..2, Time.at(0), Struct.new(:a).new(1).to_a]
    objects.each do |object|
      queue << object
      expect(marshal_copy_of?(queue.pop, object)).to be(true), "for #{object.inspect[0, 40]}"
    end
    queue << Float::NAN
    expect(queue.pop).to be_nan
    queue << [shared, shared] << recursive
    pair = queue.pop
    expect(pair.first).to be(pair.last)
    copy = queue.pop
    expect(copy.first).to be(copy)
    expect { queue << Hash.new { 1 } }.to raise_error(TypeError, /default proc/)
    expect(queue).to be_empty
  end

  it "passes objects from one process to another in both directions" do
    jobs = make
    results = make
    pid = fork_child do
      while (job = jobs.pop)
        results << (job * 2)
      end
    end
    100.times { |number| jobs << number }
    expect(Array.new(100) { results.pop }).to eq((0...100).map { |number| number * 2 })
    jobs.close
    expect_children_to_succeed([pid])
  end

  it "returns nil from pop when the timeout passes, and raises ThreadError without blocking" do
    queue = make
    expect(elapsed { expect(queue.pop(timeout: 0.05)).to be_nil }).to be >= 0.05
    expect(queue.pop(timeout: 0)).to be_nil
    expect { queue.pop(true) }.to raise_error(ThreadError, "queue empty")
    expect { queue.pop(true, timeout: 1) }.to raise_error(ArgumentError)
    expect { queue.pop(timeout: -1) }.to raise_error(ArgumentError)
    expect { queue.pop(timeout: "1") }.to raise_error(TypeError)
  end

  it "wakes a blocked pop when another process pushes" do
    queue = make
    pid = fork_child do
      sleep 0.1
      queue << "hello"
    end
    expect(queue.pop(timeout: 20)).to eq("hello")
    expect_children_to_succeed([pid])
  end

  describe "#close" do
    it "refuses pushes, lets pops drain, then returns nil at once" do
      queue = make
      queue << 1
      expect(queue.close).to be(queue)
      expect(queue).to be_closed
      expect { queue << 2 }.to raise_error(ClosedQueueError, "queue closed")
      expect(queue.pop).to eq(1)
      expect(elapsed { expect(queue.pop).to be_nil }).to be < 1
      expect { queue.pop(true) }.to raise_error(ThreadError)
      queue.close
    end

    it "wakes pops blocked in other processes, which return nil" do
      queue = make
      pids = Array.new(3) { fork_child { exit!(queue.pop.nil? ? 0 : 1) } }
      eventually { queue.num_waiting == 3 }
      queue.close
      expect_children_to_succeed(pids)
      expect(queue.num_waiting).to eq(0)
    end

    it "closes the queue at the end of an open block" do
      kept = described_class.open(bytes: 4096) do |queue|
        opened << queue
        queue << 1
        queue
      end
      expect(kept).to be_closed
      expect(kept.pop).to eq(1)
    end
  end

  it "raises ArgumentError at once for an object that can never fit, and keeps the queue as it was" do
    queue = make(bytes: 256)
    queue << :kept
    expect { queue << ("x" * 300) }.to raise_error(ArgumentError, /more than this queue can ever hold/)
    expect(queue.size).to eq(1)
    expect(queue.pop).to eq(:kept)
  end

  it "raises what Marshal raises for objects it cannot dump, and keeps the queue as it was" do
    queue = make
    expect { queue << proc {} }.to raise_error(TypeError)
    expect(queue).to be_empty
  end

  it "blocks a push while the buffer is full, until a pop makes room" do
    queue = make(bytes: 64)
    queue << ("x" * 40)
    expect { queue.push("y", true) }.to raise_error(ThreadError, "queue full")
    expect(queue.push("y", timeout: 0.05)).to be_nil
    pid = fork_child do
      sleep 0.1
      queue.pop
    end
    expect(queue.push("y", timeout: 20)).to be(queue)
    expect_children_to_succeed([pid])
    expect(queue.pop).to eq("y")
  end

  it "clears every item" do
    queue = make
    3.times { |number| queue << number }
    expect(queue.clear).to be(queue)
    expect(queue).to be_empty
    queue << 4
    expect(queue.pop).to eq(4)
  end

  it "counts waiting threads, not those of a process killed while waiting" do
    queue = make
    pid = fork_child { queue.pop }
    thread = quiet_thread { queue.pop }
    eventually { queue.num_waiting == 2 }
    expect(queue.waiting).to eq(2)
    expect(queue.inspect).to match(/0 items, 2 waiting/)
    Process.kill(:KILL, pid)
    wait_child(pid)
    expect(queue.num_waiting).to eq(1)
    queue << :done
    expect(thread.value).to eq(:done)
  end

  it "lets Thread#raise interrupt a blocked pop without losing an item" do
    queue = make
    thread = quiet_thread { queue.pop }
    wait_until_blocked(thread)
    thread.raise(Interrupt)
    expect { thread.join }.to raise_error(Interrupt)
    queue << 1
    expect(queue.pop(timeout: 1)).to eq(1)
  end

  it "refuses bad sizes" do
    expect { make(bytes: 10) }.to raise_error(ArgumentError)
    expect { make(bytes: 1 << 40) }.to raise_error(ArgumentError)
    expect { make(bytes: -1) }.to raise_error(ArgumentError)
    expect { make(bytes: "1") }.to raise_error(TypeError)
    expect { make(1) }.to raise_error(ArgumentError)
    expect(make(bytes: 100).bytes).to eq(104)
  end

  it "shows its state in inspect, which never raises" do
    queue = make
    queue << 1
    expect(queue.inspect).to eq("#<ProcessShared::Queue 1 items>")
    queue.close
    expect(queue.inspect).to eq("#<ProcessShared::Queue 1 items, closed>")
    expect(described_class.allocate.inspect).to eq("#<ProcessShared::Queue uninitialized>")
    expect { described_class.allocate.pop }.to raise_error(ProcessShared::ClosedError)
  end

  it "shares the queue through dup" do
    queue = make
    copy = queue.dup
    opened << copy
    copy << 1
    expect(queue.pop).to eq(1)
  end

  describe ProcessShared::SizedQueue do
    it "holds at most max items, blocking push until a pop" do
      queue = sized(2)
      expect(queue.max).to eq(2)
      queue << 1 << 2
      expect { queue.push(3, true) }.to raise_error(ThreadError, "queue full")
      expect(queue.push(3, timeout: 0.05)).to be_nil
      pid = fork_child do
        sleep 0.1
        queue.pop
      end
      expect(queue.push(3, timeout: 20)).to be(queue)
      expect_children_to_succeed([pid])
      expect([queue.pop, queue.pop]).to eq([2, 3])
      expect(queue.inspect).to eq("#<ProcessShared::SizedQueue 0 items, max 2>")
    end

    it "raises ClosedQueueError in a push blocked when the queue is closed" do
      queue = sized(1)
      queue << 1
      thread = quiet_thread { queue.push(2) }
      wait_until_blocked(thread)
      queue.close
      expect { thread.join }.to raise_error(ClosedQueueError)
    end

    it "changes max for every process" do
      queue = sized(1)
      queue << 1
      thread = quiet_thread { queue.push(2) }
      wait_until_blocked(thread)
      queue.max = 2
      expect(thread.join(10)).to be_truthy
      expect(queue.size).to eq(2)
      expect { queue.max = 0 }.to raise_error(ArgumentError)
    end

    it "refuses a max that is not a positive Integer" do
      expect { sized(0) }.to raise_error(ArgumentError)
      expect { sized(-1) }.to raise_error(ArgumentError)
      expect { sized(1.5) }.to raise_error(TypeError)
    end
  end

  after { opened.each(&:close) }
end
